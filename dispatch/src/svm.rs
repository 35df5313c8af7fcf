//! A linear support vector machine: L2-regularised, squared hinge loss, trained by dual
//! coordinate descent (Hsieh et al., ICML 2008, the method of LIBLINEAR's default solver). One
//! binary machine per class (one against the rest); a constant feature gives each a bias.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::features::Sparse;

pub use crate::settings::Settings;

fn dot(w: &[f32], x: &Sparse) -> f32 {
    x.iter().map(|(i, v)| w[*i as usize] * v).sum::<f32>() + w[w.len() - 1]
}

/// Trains one binary machine: `positive[i]` says which side example `i` is on, `weight[i]`
/// scales its cost. Returns the weights, the last one the bias.
pub fn train_binary(
    xs: &[Sparse],
    positive: &[bool],
    weight: &[f32],
    dims: usize,
    s: &Settings,
) -> Vec<f32> {
    let mut w = vec![0.0f32; dims + 1];
    let mut alpha = vec![0.0f32; xs.len()];
    // Squared hinge: the dual's diagonal gains 1 / (2 C_i) and alpha has no upper bound.
    let diag: Vec<f32> = weight.iter().map(|k| 0.5 / (s.c * k)).collect();
    let q: Vec<f32> = xs
        .iter()
        .zip(&diag)
        .map(|(x, d)| x.iter().map(|(_, v)| v * v).sum::<f32>() + 1.0 + d)
        .collect();
    let mut order: Vec<usize> = (0..xs.len()).collect();
    let mut rng = StdRng::seed_from_u64(s.seed);
    for _ in 0..s.max_passes {
        order.shuffle(&mut rng);
        let mut worst = 0.0f32;
        for &i in &order {
            let y = if positive[i] { 1.0 } else { -1.0 };
            let g = y * dot(&w, &xs[i]) - 1.0 + diag[i] * alpha[i];
            let pg = if alpha[i] == 0.0 { g.min(0.0) } else { g };
            worst = worst.max(pg.abs());
            if pg.abs() > 1e-12 {
                let old = alpha[i];
                alpha[i] = (alpha[i] - g / q[i]).max(0.0);
                let step = (alpha[i] - old) * y;
                for (j, v) in &xs[i] {
                    w[*j as usize] += step * v;
                }
                let bias = w.len() - 1;
                w[bias] += step;
            }
        }
        if worst < s.tolerance {
            break;
        }
    }
    w
}

/// The decision value of each class's machine for `x`.
pub fn scores(weights: &[Vec<f32>], x: &Sparse) -> Vec<f32> {
    weights.iter().map(|w| dot(w, x)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_two_groups() {
        let xs: Vec<Sparse> = vec![
            vec![(0, 1.0)],
            vec![(0, 0.9), (2, 0.1)],
            vec![(1, 1.0)],
            vec![(1, 0.8), (2, 0.2)],
        ];
        let positive = [true, true, false, false];
        let w = train_binary(
            &xs,
            &positive,
            &[1.0; 4],
            3,
            &Settings {
                c: 10.0,
                ..Settings::default()
            },
        );
        for (x, p) in xs.iter().zip(positive) {
            assert_eq!(dot(&w, x) > 0.0, p, "{w:?}");
        }
        assert!(dot(&w, &vec![(0, 1.0)]) > 0.5);
        assert!(dot(&w, &vec![(1, 1.0)]) < -0.5);
    }
}
