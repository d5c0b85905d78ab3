//! The WhatsApp parser on arbitrary bytes: no panic, whatever the input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| callhook_fuzz::parse(callhook_fuzz::Target::WhatsApp, data));
