#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ondeck_fuzz::proc_net_tcp(data));
