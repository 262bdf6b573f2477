//! The fuzz corpora as regression tests on stable: every file under `fuzz/corpus/<target>/`
//! (minimized seeds and every input that once crashed) goes through the same entry point the
//! cargo-fuzz target uses (`fuzz/entries.rs`). A parser that panics again on any of them, or
//! breaks one of the entry points' properties, fails this test with the file's name.

#[path = "../fuzz/entries.rs"]
mod entries;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Removes the entries' scratch directory when the test ends, passed or failed.
struct Scratch;

impl Drop for Scratch {
    fn drop(&mut self) {
        entries::remove_scratch_dir();
    }
}

#[test]
fn every_corpus_file_replays_without_a_panic() {
    let scratch = Scratch;
    let mut failures = Vec::new();
    let mut total = 0usize;
    for (name, entry) in entries::TARGETS {
        let corpus = files(&fuzz_dir().join("corpus").join(name));
        assert!(
            !corpus.is_empty(),
            "fuzz/corpus/{name} is empty or missing: every target keeps a seed corpus"
        );
        for f in corpus {
            let data = match std::fs::read(&f) {
                Ok(d) => d,
                Err(e) => {
                    failures.push(format!("{}: unreadable: {e}", f.display()));
                    continue;
                }
            };
            total += 1;
            if let Err(p) = catch_unwind(AssertUnwindSafe(|| entry(&data))) {
                let why = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("{name}: {}: {why}", f.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} corpus inputs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!("{total} corpus inputs replayed");
    drop(scratch);
    // The scratch directory (kubeconfig, volumes) is gone with the test.
    if let Some(dir) = entries::remove_scratch_dir() {
        assert!(!dir.exists(), "{} left behind", dir.display());
    }
}

#[test]
fn every_fuzz_target_has_an_entry_and_a_corpus() {
    let mut bins: Vec<String> = files(&fuzz_dir().join("fuzz_targets"))
        .iter()
        .filter_map(|p| Some(p.file_stem()?.to_str()?.to_string()))
        .collect();
    bins.sort();
    let mut names: Vec<String> = entries::TARGETS
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    names.sort();
    assert_eq!(bins, names, "fuzz/fuzz_targets and entries::TARGETS differ");
}
