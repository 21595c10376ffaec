#![no_main]

// The oracle is shared with tests/fuzz_parsers.rs: see mlsupply::fuzzing::shell.
libfuzzer_sys::fuzz_target!(|data: &[u8]| mlsupply::fuzzing::shell(data));
