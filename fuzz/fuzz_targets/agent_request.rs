#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| teamotp_fuzz::agent_request(data));
