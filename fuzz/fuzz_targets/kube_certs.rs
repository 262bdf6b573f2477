#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ondeck_fuzz::kube_certs(data));
