//! The `pilotage` binary as a user runs it: exit codes, one-line errors, nothing half-written.

use std::path::Path;
use std::process::{Command, Output};

fn pilotage(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pilotage"))
        .args(args)
        .output()
        .expect("the pilotage binary runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A failed command prints exactly one line, starting with `error:` and containing `needle`.
fn assert_one_line_error(out: &Output, code: i32, needle: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "exit code; stderr: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line expected, got: {err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    assert!(lines[0].contains(needle), "{needle:?} not in {err}");
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("readable folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn unknown_option_is_one_line_and_exit_2() {
    let out = pilotage(&["generate", "--bogus", "--out", "x"]);
    assert_one_line_error(&out, 2, "--bogus");
    let out = pilotage(&["frobnicate"]);
    assert_one_line_error(&out, 2, "frobnicate");
}

#[test]
fn impossible_scales_are_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out_dir = tmp.path().join("out");
    let out_arg = out_dir.to_str().expect("utf-8 path");
    for scale in ["0", "-1", "NaN", "inf", "1000"] {
        // `--scale=-1`: a separate `-1` would read as an option.
        let flag = format!("--scale={scale}");
        let out = pilotage(&["generate", &flag, "--out", out_arg]);
        assert_one_line_error(&out, 1, "--scale");
    }
    let out = pilotage(&["generate", "--scale", "abc", "--out", out_arg]);
    assert_one_line_error(&out, 2, "--scale");
    assert!(!out_dir.exists(), "nothing written on refusal");
    assert!(entries(tmp.path()).is_empty(), "no temporary leftovers");
}

#[test]
fn year_ranges_in_the_wrong_order_are_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out_arg = tmp.path().join("out");
    let out_arg = out_arg.to_str().expect("utf-8 path");
    let out = pilotage(&["generate", "--years", "2025-2021", "--out", out_arg]);
    assert_one_line_error(&out, 2, "wrong order");
    let out = pilotage(&["generate", "--years", "20x1-2025", "--out", out_arg]);
    assert_one_line_error(&out, 2, "not a year");
    let out = pilotage(&["generate", "--years", "1990-2025", "--out", out_arg]);
    assert_one_line_error(&out, 1, "--years");
    assert!(entries(tmp.path()).is_empty());
}

#[test]
fn unwritable_output_is_refused_without_leftovers() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // A path below a regular file can never be created, even as root.
    let file = tmp.path().join("plain-file");
    std::fs::write(&file, b"x").expect("write");
    let target = file.join("out");
    let out = pilotage(&[
        "generate",
        "--scale",
        "0.001",
        "--out",
        target.to_str().expect("utf-8"),
    ]);
    assert_one_line_error(&out, 1, "plain-file");
    assert_eq!(entries(tmp.path()), vec!["plain-file".to_owned()]);

    // An output folder that already holds files is never overwritten.
    let busy = tmp.path().join("busy");
    std::fs::create_dir(&busy).expect("mkdir");
    std::fs::write(busy.join("keep.txt"), b"precious").expect("write");
    let out = pilotage(&[
        "generate",
        "--scale",
        "0.001",
        "--out",
        busy.to_str().expect("utf-8"),
    ]);
    assert_one_line_error(&out, 1, "busy");
    assert_eq!(entries(&busy), vec!["keep.txt".to_owned()]);
    assert_eq!(entries(tmp.path()), vec!["busy", "plain-file"]);
}

#[test]
fn generate_writes_every_table_in_both_formats() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for format in ["parquet", "csv"] {
        let out_dir = tmp.path().join(format);
        let out = pilotage(&[
            "generate",
            "--scale",
            "0.001",
            "--seed",
            "7",
            "--years",
            "2024-2025",
            "--format",
            format,
            "--out",
            out_dir.to_str().expect("utf-8"),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let expected: Vec<String> = pilotage_core::source::SourceTable::ALL
            .iter()
            .map(|t| format!("{}.{format}", t.name()))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(entries(&out_dir), expected);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("candidatures"), "{stdout}");
    }
    assert_eq!(entries(tmp.path()), vec!["csv", "parquet"]);
}
