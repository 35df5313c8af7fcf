#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! `hotline eval search` through the real binary: the shipped set by default, a set of one's
//! own with `--queries`, and clear errors for a bad file or engine.

mod common;

use std::process::Command;

fn hotline(args: &[&str]) -> std::process::Output {
    Command::new(common::binary())
        .args(args)
        .output()
        .expect("hotline runs")
}

/// The value of the `name: x` line.
fn figure(out: &str, name: &str) -> f64 {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no {name} line in:\n{out}"))
        .parse()
        .expect("a number")
}

#[test]
fn the_shipped_set_by_default() {
    let out = hotline(&["eval", "search"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = String::from_utf8(out.stdout).unwrap();
    let (h1, h3, mrr) = (
        figure(&out, "hit@1"),
        figure(&out, "hit@3"),
        figure(&out, "mrr"),
    );
    assert!(h3 >= 0.95, "the issue's target:\n{out}");
    assert!(
        h1 <= h3 && h1 <= mrr && mrr <= h3 + 1e-9 + (1.0 - h3),
        "{out}"
    );
    // The last three lines are the figures, in this order.
    let last: Vec<&str> = out.trim_end().lines().rev().take(3).collect();
    assert!(
        last[2].starts_with("hit@1: ")
            && last[1].starts_with("hit@3: ")
            && last[0].starts_with("mrr: "),
        "{out}"
    );
}

#[test]
fn a_set_of_ones_own_and_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let own = dir.path().join("q.csv");
    // One query that finds its answer first, one that cannot (the answer named is another's).
    std::fs::write(
        &own,
        "query,kind,slugs\n景蓉华苑业委会停车收费投票,plain,reply-2549\n景蓉华苑业委会停车收费投票,plain,reply-2554\n",
    )
    .unwrap();
    let out = hotline(&["eval", "search", "--queries", own.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = String::from_utf8(out.stdout).unwrap();
    assert!(out.contains("plain           2 queries"), "{out}");
    assert_eq!(figure(&out, "hit@3"), 0.5, "{out}");

    std::fs::write(&own, "query,kind,slugs\n只有问题,plain,\n").unwrap();
    let bad = hotline(&["eval", "search", "--queries", own.to_str().unwrap()]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("line 2"), "{err}");

    let missing = hotline(&["eval", "search", "--queries", "/nonexistent/q.csv"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/q.csv"));

    let engine = hotline(&["eval", "search", "--engine", "lucene"]);
    assert!(!engine.status.success());
    assert!(String::from_utf8_lossy(&engine.stderr).contains("--engine"));
}
