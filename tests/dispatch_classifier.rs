#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! The category classifier through the real binary: `hotline eval dispatch` in both modes on the
//! shipped real appeals, `hotline train dispatch`, and the shipped model.

mod common;

use std::process::Command;

use hotline_dispatch::Model;

const MESSAGES_CSV: &str = include_str!("../demo/appeals/messages.csv");
const SHIPPED: &str = include_str!("../dispatch/model/category.json");

fn run(args: &[&str]) -> String {
    let out = Command::new(common::binary())
        .args(args)
        .output()
        .expect("hotline runs");
    assert!(
        out.status.success(),
        "hotline {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn macro_f1(report: &str) -> f64 {
    let last = report.trim_end().lines().last().expect("a last line");
    last.strip_prefix("macro_f1: ")
        .unwrap_or_else(|| panic!("the last line is {last:?}"))
        .parse()
        .expect("a number")
}

#[test]
fn five_fold_cross_validation_on_the_real_appeals() {
    let report = run(&[
        "eval",
        "dispatch",
        "--data",
        "demo/appeals/messages.csv",
        "--folds",
        "5",
    ]);
    // Every first-level class of the data has its row, in the table and the confusion matrix.
    for class in [
        "交通运输",
        "劳动和社会保障",
        "卫生计生",
        "商贸旅游",
        "城乡建设",
        "教育文体",
        "环境保护",
    ] {
        assert_eq!(report.matches(class).count(), 2, "{class} in:\n{report}");
    }
    let f1 = macro_f1(&report);
    // The README states the figure; the target is 0.85 (chance is about 0.14).
    assert!(f1 >= 0.85, "macro-F1 {f1} in:\n{report}");
    // Seeded: the same command gives the same report.
    assert_eq!(
        report,
        run(&[
            "eval",
            "dispatch",
            "--data",
            "demo/appeals/messages.csv",
            "--folds",
            "5"
        ])
    );
}

#[test]
fn train_on_one_file_test_on_another_and_ship_the_model() {
    let dir = tempfile::tempdir().unwrap();
    // Split the real appeals by row: every fifth one is the test set.
    let mut r = csv::Reader::from_reader(MESSAGES_CSV.as_bytes());
    let headers = r.headers().unwrap().clone();
    let (mut train, mut test) = (
        csv::Writer::from_path(dir.path().join("train.csv")).unwrap(),
        csv::Writer::from_path(dir.path().join("test.csv")).unwrap(),
    );
    train.write_record(&headers).unwrap();
    test.write_record(&headers).unwrap();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.unwrap();
        if i % 5 == 0 { &mut test } else { &mut train }
            .write_record(&rec)
            .unwrap();
    }
    train.flush().unwrap();
    test.flush().unwrap();
    let (a, b) = (dir.path().join("train.csv"), dir.path().join("test.csv"));
    let report = run(&[
        "eval",
        "dispatch",
        "--train",
        a.to_str().unwrap(),
        "--test",
        b.to_str().unwrap(),
    ]);
    assert!(macro_f1(&report) >= 0.85, "{report}");

    // A model trained and written by the command classifies like the shipped one is meant to.
    let out = dir.path().join("model.json");
    let said = run(&[
        "train",
        "dispatch",
        "--data",
        a.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(said.contains("7 classes"), "{said}");
    for text in [std::fs::read_to_string(&out).unwrap(), SHIPPED.to_owned()] {
        let model = Model::from_json(&text).expect("a valid model");
        let s = model.classify(
            "公司拖欠工资",
            "本人在A1区某公司工作，公司已拖欠三个月工资，多次讨要无果。",
        );
        assert_eq!(s.category(), "劳动和社会保障", "{s:?}");
        assert!(s.confidence() > 0.5 && s.confidence() <= 1.0, "{s:?}");
        let total: f32 = s.ranked.iter().map(|(_, p)| p).sum();
        assert!(
            (total - 1.0).abs() < 1e-3,
            "probabilities sum to one: {s:?}"
        );
        assert!(
            s.terms.iter().any(|(t, _)| t.contains("工资")),
            "explained by its words: {s:?}"
        );
        let road = model.classify(
            "路口红绿灯坏了",
            "A3区某路口的红绿灯已经坏了三天，车辆和行人通行很危险。",
        );
        assert_eq!(road.category(), "交通运输", "{road:?}");
        // Words only the category tree knows (危险化学品污染 is a name under 环境保护; no
        // appeal says 危险化学品): the tree's evidence recognises the class and names the
        // word. Without the tree, 化学 reads as a school subject (教育文体).
        assert!(model.prior.is_some());
        let chemicals = model.classify(
            "危险化学品仓库紧挨住宅",
            "某工业园旁新建的危险化学品仓库离住宅不到百米。",
        );
        assert_eq!(chemicals.category(), "环境保护", "{chemicals:?}");
        assert!(
            chemicals.terms.iter().any(|(t, _)| t.contains("化学品")),
            "{chemicals:?}"
        );
        let quake = model.classify("新建住宅楼抗震不达标", "某楼盘的抗震防灾设计不符合标准。");
        assert_eq!(quake.category(), "城乡建设", "{quake:?}");
        assert!(quake.terms.iter().any(|(t, _)| t == "抗震"), "{quake:?}");
    }
}

#[test]
fn bad_files_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "id,title,detail\n1,标题,内容\n").unwrap();
    let out = Command::new(common::binary())
        .args(["eval", "dispatch", "--data", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("category"), "names the missing column: {err}");
    let out = Command::new(common::binary())
        .args(["eval", "dispatch", "--data", "demo/appeals/messages.csv"])
        .arg("--prior-scale=-1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--prior-scale"), "names the setting: {err}");
    assert!(Model::from_json("{\"classes\": []}").is_err());
}
