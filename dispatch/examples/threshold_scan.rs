#![allow(clippy::unwrap_used, clippy::expect_used)] // a measurement may fail loudly
//! Where the manual-queue threshold comes from: the classifier's confidence on appeals it did not
//! see (5 stratified folds of the shared real appeals, seed 12345), and for each threshold the
//! share of appeals below it, the accuracy there, and the accuracy of those above it.
//! `cargo run --release -p hotline-dispatch --example threshold_scan`
use hotline_dispatch::eval::{split, stratified_folds};
use hotline_dispatch::model::{TAXONOMY_CSV, category_tree, read_examples};
use hotline_dispatch::{Model, Settings};
fn main() {
    let ex = read_examples(include_str!("../../demo/appeals/messages.csv").as_bytes()).unwrap();
    let tax = category_tree(TAXONOMY_CSV).unwrap();
    let s = Settings::default();
    let folds = stratified_folds(&ex, 5, 12345);
    let mut out = Vec::new();
    for k in 0..5 {
        let (tr, te) = split(&ex, &folds, k);
        let m = Model::train(&tr, &tax, &s).unwrap();
        for e in &te {
            let g = m.classify(&e.title, &e.detail);
            out.push((g.confidence(), g.category() == e.category));
        }
    }
    for t in [0.3f32, 0.4, 0.5, 0.6, 0.7, 0.8] {
        let below: Vec<_> = out.iter().filter(|x| x.0 < t).collect();
        let above: Vec<_> = out.iter().filter(|x| x.0 >= t).collect();
        let acc =
            |v: &[&(f32, bool)]| v.iter().filter(|x| x.1).count() as f32 / v.len().max(1) as f32;
        println!(
            "t={t}: manual {:.1}% (acc there {:.3}), auto acc {:.3}",
            100.0 * below.len() as f32 / out.len() as f32,
            acc(&below),
            acc(&above)
        );
    }
}
