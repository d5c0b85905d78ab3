//! The CloudTalk verifier: arbitrary requests never verify; genuinely signed ones always do.
#![no_main]

libfuzzer_sys::fuzz_target!(|input: callhook_fuzz::VerifyInput| callhook_fuzz::verify(callhook_fuzz::Target::CloudTalk, input));
