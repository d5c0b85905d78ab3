//! Every registered provider's verifier: genuine requests verify, forged headers and
//! tampered bodies do not.
#![no_main]

libfuzzer_sys::fuzz_target!(|input: callhook_fuzz::RegisteredInput| callhook_fuzz::verify_registered(input));
