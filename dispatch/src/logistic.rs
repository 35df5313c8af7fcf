//! Multinomial logistic regression: softmax over the classes, L2-regularised (not the biases),
//! each example's loss weighted, minimised by L-BFGS (Nocedal & Wright, algorithm 7.5, with a
//! backtracking line search). The objective is smooth and strictly convex, so the minimum is
//! unique and the result does not depend on an order of the examples.

use std::collections::VecDeque;

use crate::features::Sparse;
use crate::settings::Settings;

/// Memory of the L-BFGS (pairs of steps and gradient changes kept).
const MEMORY: usize = 10;
const MAX_ITERATIONS: usize = 500;
/// Stop when the largest gradient entry is below this.
const GRADIENT_TOLERANCE: f64 = 1e-5;

struct Problem<'a> {
    xs: &'a [Sparse],
    labels: &'a [usize],
    /// Example weights, divided by their sum.
    weight: Vec<f64>,
    classes: usize,
    /// Features per class, the bias last.
    width: usize,
    lambda: f64,
}

impl Problem<'_> {
    /// The objective at `w` (class-major: class `c`'s weights at `c * width..`), and its gradient.
    fn value(&self, w: &[f64], grad: &mut [f64]) -> f64 {
        grad.fill(0.0);
        let mut loss = 0.0;
        let mut s = vec![0.0f64; self.classes];
        for ((x, y), k) in self.xs.iter().zip(self.labels).zip(&self.weight) {
            for (c, sc) in s.iter_mut().enumerate() {
                let row = &w[c * self.width..(c + 1) * self.width];
                *sc = row[self.width - 1]
                    + x.iter()
                        .map(|(j, v)| row[*j as usize] * f64::from(*v))
                        .sum::<f64>();
            }
            let max = s.iter().copied().fold(f64::MIN, f64::max);
            let z: f64 = s.iter().map(|v| (v - max).exp()).sum();
            loss += k * (max + z.ln() - s[*y]);
            for (c, sc) in s.iter().enumerate() {
                let d = k * ((sc - max).exp() / z - if c == *y { 1.0 } else { 0.0 });
                let row = &mut grad[c * self.width..(c + 1) * self.width];
                for (j, v) in x {
                    row[*j as usize] += d * f64::from(*v);
                }
                row[self.width - 1] += d;
            }
        }
        for (i, (g, wi)) in grad.iter_mut().zip(w).enumerate() {
            if i % self.width != self.width - 1 {
                loss += 0.5 * self.lambda * wi * wi;
                *g += self.lambda * wi;
            }
        }
        loss
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Trains on `xs` (`dims` features) with class `labels[i]` and weight `weight[i]`. Returns per
/// class the weights, the last one the bias.
pub fn train(
    xs: &[Sparse],
    labels: &[usize],
    weight: &[f32],
    classes: usize,
    dims: usize,
    s: &Settings,
) -> Vec<Vec<f32>> {
    let total: f64 = weight.iter().map(|k| f64::from(*k)).sum::<f64>().max(1e-12);
    let p = Problem {
        xs,
        labels,
        weight: weight.iter().map(|k| f64::from(*k) / total).collect(),
        classes,
        width: dims + 1,
        lambda: f64::from(s.lambda),
    };
    let n = classes * p.width;
    let mut w = vec![0.0f64; n];
    let mut g = vec![0.0f64; n];
    let mut f = p.value(&w, &mut g);
    let mut memory: VecDeque<(Vec<f64>, Vec<f64>, f64)> = VecDeque::new();
    let (mut w_new, mut g_new) = (vec![0.0f64; n], vec![0.0f64; n]);
    for _ in 0..MAX_ITERATIONS {
        if g.iter().fold(0.0f64, |m, x| m.max(x.abs())) < GRADIENT_TOLERANCE {
            break;
        }
        // Two-loop recursion: d = -H g.
        let mut d: Vec<f64> = g.iter().map(|x| -x).collect();
        let mut alphas = Vec::with_capacity(memory.len());
        for (sk, yk, rho) in memory.iter().rev() {
            let a = rho * dot(sk, &d);
            for (di, yi) in d.iter_mut().zip(yk) {
                *di -= a * yi;
            }
            alphas.push(a);
        }
        let gamma = memory
            .back()
            .map_or(1.0 / dot(&g, &g).sqrt().max(1e-12), |(sk, yk, _)| {
                dot(sk, yk) / dot(yk, yk)
            });
        for di in &mut d {
            *di *= gamma;
        }
        for ((sk, yk, rho), a) in memory.iter().zip(alphas.into_iter().rev()) {
            let b = rho * dot(yk, &d);
            for (di, si) in d.iter_mut().zip(sk) {
                *di += (a - b) * si;
            }
        }
        let slope = dot(&g, &d);
        if slope >= 0.0 {
            // Not a descent direction (rounding): start again from the gradient.
            memory.clear();
            continue;
        }
        // Backtracking until the Armijo condition holds.
        let mut step = 1.0;
        let mut f_new = f;
        for _ in 0..40 {
            for ((wn, wi), di) in w_new.iter_mut().zip(&w).zip(&d) {
                *wn = wi + step * di;
            }
            f_new = p.value(&w_new, &mut g_new);
            if f_new <= f + 1e-4 * step * slope {
                break;
            }
            step *= 0.5;
        }
        if f_new > f {
            break;
        }
        let sk: Vec<f64> = w_new.iter().zip(&w).map(|(a, b)| a - b).collect();
        let yk: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&sk, &yk);
        if sy > 1e-12 {
            if memory.len() == MEMORY {
                memory.pop_front();
            }
            memory.push_back((sk, yk, 1.0 / sy));
        }
        std::mem::swap(&mut w, &mut w_new);
        std::mem::swap(&mut g, &mut g_new);
        let done = (f - f_new).abs() <= 1e-10 * f.abs().max(1.0);
        f = f_new;
        if done {
            break;
        }
    }
    w.chunks(p.width)
        .map(|row| row.iter().map(|x| *x as f32).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_three_groups_and_reaches_the_minimum() {
        let xs: Vec<Sparse> = vec![
            vec![(0, 1.0)],
            vec![(0, 0.8), (3, 0.2)],
            vec![(1, 1.0)],
            vec![(1, 0.9), (3, 0.1)],
            vec![(2, 1.0)],
            vec![(2, 0.7), (3, 0.3)],
        ];
        let labels = [0, 0, 1, 1, 2, 2];
        let s = Settings {
            lambda: 0.01,
            ..Settings::default()
        };
        let w = train(&xs, &labels, &[1.0; 6], 3, 4, &s);
        for (x, y) in xs.iter().zip(labels) {
            let scores: Vec<f32> = w
                .iter()
                .map(|r| r[4] + x.iter().map(|(j, v)| r[*j as usize] * v).sum::<f32>())
                .collect();
            let best = (0..3).max_by(|a, b| scores[*a].total_cmp(&scores[*b]));
            assert_eq!(best, Some(y), "{scores:?}");
        }
        // At the minimum the gradient vanishes.
        let p = Problem {
            xs: &xs,
            labels: &labels,
            weight: vec![1.0 / 6.0; 6],
            classes: 3,
            width: 5,
            lambda: 0.01,
        };
        let flat: Vec<f64> = w.iter().flatten().map(|x| f64::from(*x)).collect();
        let mut g = vec![0.0; flat.len()];
        p.value(&flat, &mut g);
        assert!(g.iter().all(|x| x.abs() < 1e-4), "{g:?}");
    }
}
