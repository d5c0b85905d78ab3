//! Every registered provider's parser (the first byte picks it): no panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| callhook_fuzz::parse_registered(data));
