#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark may fail loudly
//! How long one category suggestion takes in process, with the shipped model, over the real
//! appeals: Criterion's estimate of the mean, then the p50/p99 of single calls (the target is
//! p99 < 2 ms), in wall-clock time and in the CPU time of the calling thread (which other
//! processes on a busy machine do not inflate).

use std::time::{Duration, Instant};

use cpu_time::ThreadTime;
use criterion::{Criterion, criterion_group, criterion_main};
use hotline_dispatch::Model;
use hotline_dispatch::model::read_examples;

fn classify(c: &mut Criterion) {
    let model = Model::from_json(include_str!("../model/category.json")).expect("shipped model");
    let appeals = read_examples(include_str!("../../demo/appeals/messages.csv").as_bytes())
        .expect("real appeals");
    let mut next = 0;
    c.bench_function("classify one real appeal", |b| {
        b.iter(|| {
            let e = &appeals[next % appeals.len()];
            next += 1;
            std::hint::black_box(model.classify(&e.title, &e.detail))
        });
    });
    let (mut wall, mut cpu): (Vec<Duration>, Vec<Duration>) = (Vec::new(), Vec::new());
    for _ in 0..10 {
        for e in &appeals {
            let (start, thread) = (Instant::now(), ThreadTime::now());
            std::hint::black_box(model.classify(&e.title, &e.detail));
            cpu.push(thread.elapsed());
            wall.push(start.elapsed());
        }
    }
    for (what, mut times) in [("wall clock", wall), ("thread CPU time", cpu)] {
        times.sort_unstable();
        let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
        println!(
            "classify, {} calls over {} real appeals, {what}: p50 {:?}, p99 {:?}, max {:?}",
            times.len(),
            appeals.len(),
            at(0.50),
            at(0.99),
            times[times.len() - 1]
        );
    }
}

criterion_group!(benches, classify);
criterion_main!(benches);
