#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark may fail loudly
//! How long one suggestion takes in process, over the real appeals, with the shipped model:
//! Criterion's estimate of the mean, then the p50/p99 of single calls (the target is p99 < 2 ms),
//! in wall-clock time and in the CPU time of the calling thread (which other processes on a busy
//! machine do not inflate). `classify` is the classifier alone; `suggest` the whole suggestion
//! (places, rules, classifier, ranking and explanation) on the demo's org tree, default rules,
//! place names and areas.

use std::time::{Duration, Instant};

use cpu_time::ThreadTime;
use criterion::{Criterion, criterion_group, criterion_main};
use hotline_dispatch::Model;
use hotline_dispatch::model::read_examples;
use hotline_dispatch::routing::offline::demo;
use hotline_dispatch::routing::{Appeal, Bounds, Router};

/// Prints the p50/p99/max of single calls, in wall-clock and in thread CPU time.
fn percentiles(label: &str, appeals: usize, times: Vec<(Duration, Duration)>) {
    let (wall, cpu): (Vec<Duration>, Vec<Duration>) = times.into_iter().unzip();
    for (what, mut times) in [("wall clock", wall), ("thread CPU time", cpu)] {
        times.sort_unstable();
        let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
        println!(
            "{label}, {} calls over {appeals} real appeals, {what}: p50 {:?}, p99 {:?}, max {:?}",
            times.len(),
            at(0.50),
            at(0.99),
            times[times.len() - 1]
        );
    }
}

/// Runs `f` once and returns its wall-clock and thread CPU time.
fn timed<R>(f: impl FnOnce() -> R) -> (Duration, Duration) {
    let (start, thread) = (Instant::now(), ThreadTime::now());
    std::hint::black_box(f());
    (start.elapsed(), thread.elapsed())
}

fn bench(c: &mut Criterion) {
    let model = std::sync::Arc::new(
        Model::from_json(include_str!("../model/category.json")).expect("shipped model"),
    );
    let appeals = read_examples(include_str!("../../demo/appeals/messages.csv").as_bytes())
        .expect("real appeals");
    let d = demo(
        include_str!("../../demo/org.csv"),
        include_str!("../../demo/appeals/taxonomy.csv"),
        include_str!("../../demo/places.csv"),
        include_str!("../../demo/areas.geojson"),
    );
    let router = Router::new(model.clone(), d.data, 0.5);
    // Every fifth appeal has coordinates (inside A2区), so point-in-polygon is measured too.
    let point = |i: usize| {
        i.is_multiple_of(5)
            .then_some((28.1 + (i % 7) as f64 * 0.01, 112.97))
    };
    let appeal = |i: usize| {
        let e = &appeals[i % appeals.len()];
        Appeal {
            title: &e.title,
            detail: &e.detail,
            address: None,
            point: point(i),
            category_id: None,
        }
    };
    let bounds = Bounds::default();

    let mut next = 0;
    c.bench_function("classify one real appeal", |b| {
        b.iter(|| {
            let e = &appeals[next % appeals.len()];
            next += 1;
            std::hint::black_box(model.classify(&e.title, &e.detail))
        });
    });
    let mut next = 0;
    c.bench_function("suggest units for one real appeal", |b| {
        b.iter(|| {
            next += 1;
            std::hint::black_box(router.suggest(&appeal(next), &bounds))
        });
    });

    // Single calls, each kind in a run of its own (so neither warms the caches for the other).
    let (mut classify, mut suggest) = (Vec::new(), Vec::new());
    for _ in 0..10 {
        for e in &appeals {
            classify.push(timed(|| model.classify(&e.title, &e.detail)));
        }
    }
    for round in 0..10 {
        for i in 0..appeals.len() {
            let a = appeal(round * appeals.len() + i);
            suggest.push(timed(|| router.suggest(&a, &bounds)));
        }
    }
    percentiles("classify", appeals.len(), classify);
    percentiles(
        "suggest (classify + rules + places)",
        appeals.len(),
        suggest,
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
