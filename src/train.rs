//! `hotline train dispatch` and `hotline eval dispatch`: the category classifier from labelled
//! appeals (CSV with the columns of `messages.csv`).

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use hotline_dispatch::eval;
use hotline_dispatch::model::{TAXONOMY_CSV, category_tree, read_examples};
use hotline_dispatch::{Example, Family, Model, Settings};

#[derive(Debug, Subcommand)]
pub enum TrainCommand {
    /// Train the category classifier on labelled appeals and save it.
    Dispatch {
        /// Labelled appeals: CSV with `title`, `detail` and `category` columns.
        #[arg(long)]
        data: PathBuf,
        /// Where to write the model (JSON).
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        settings: SettingsArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Evaluate the category classifier: `--data F --folds K` (stratified, seeded
    /// cross-validation) or `--train A --test B`. Prints per-class precision, recall and F1, the
    /// confusion matrix, and a last line `macro_f1: 0.xxxx`.
    Dispatch {
        /// Labelled appeals to cross-validate on.
        #[arg(long, conflicts_with_all = ["train", "test"], required_unless_present = "train")]
        data: Option<PathBuf>,
        #[arg(long, default_value_t = 5)]
        folds: usize,
        /// Train on this file…
        #[arg(long, requires = "test")]
        train: Option<PathBuf>,
        /// …and test on this one.
        #[arg(long, requires = "train")]
        test: Option<PathBuf>,
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// Evaluate the knowledge search on a query set (`query,kind,slugs`; the shipped
    /// `knowledge/eval/queries.csv` by default) over the demo articles. Prints the figures per
    /// kind of query, then `hit@1:`, `hit@3:` and `mrr:` lines.
    Search {
        #[arg(long)]
        queries: Option<PathBuf>,
        /// The engine: embedded (tantivy, in memory) or meilisearch (the server at
        /// `--meili-url`; the demo articles go to a dedicated index first).
        #[arg(long, default_value = "embedded")]
        engine: String,
        #[command(flatten)]
        meili: crate::knowledge::MeiliArgs,
        /// Also list the queries whose answer was not in the first three.
        #[arg(long)]
        misses: bool,
    },
}

/// The training settings; the defaults are those of the shipped model (README, "Dispatch: the
/// category classifier", for how they were chosen).
#[derive(Debug, Clone, Args)]
pub struct SettingsArgs {
    /// The seed of the folds and of the training order.
    #[arg(long, default_value_t = 12345)]
    pub seed: u64,
    /// The linear model: svm, logistic, or both (their calibrated log-probabilities added).
    #[arg(long, default_value = "svm", value_parser = parse_family)]
    pub family: Family,
    /// The SVM's cost of a margin violation.
    #[arg(long, default_value_t = Settings::default().c)]
    pub c: f32,
    /// The logistic regression's L2 penalty.
    #[arg(long, default_value_t = Settings::default().lambda)]
    pub lambda: f32,
    /// The size of the category tree's evidence features (0: none).
    #[arg(long, default_value_t = Settings::default().prior_scale)]
    pub prior_scale: f32,
    /// The weight of each category-tree name as a training document (0: not used).
    #[arg(long, default_value_t = Settings::default().taxonomy_weight)]
    pub taxonomy_weight: f32,
}

fn parse_family(s: &str) -> Result<Family, String> {
    match s {
        "svm" => Ok(Family::Svm),
        "logistic" => Ok(Family::Logistic),
        "both" => Ok(Family::Both),
        _ => Err("one of svm, logistic, both".into()),
    }
}

impl SettingsArgs {
    fn settings(&self) -> anyhow::Result<Settings> {
        for (name, v) in [
            ("--c", self.c),
            ("--lambda", self.lambda),
            ("--prior-scale", self.prior_scale),
            ("--taxonomy-weight", self.taxonomy_weight),
        ] {
            anyhow::ensure!(
                v.is_finite() && v >= 0.0,
                "{name} must be a number of 0 or more"
            );
        }
        anyhow::ensure!(self.c > 0.0, "--c must be more than 0");
        Ok(Settings {
            seed: self.seed,
            family: self.family,
            c: self.c,
            lambda: self.lambda,
            prior_scale: self.prior_scale,
            taxonomy_weight: self.taxonomy_weight,
            ..Settings::default()
        })
    }
}

fn examples(path: &Path) -> anyhow::Result<Vec<Example>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let out = read_examples(std::io::BufReader::new(file))
        .with_context(|| format!("cannot read {}", path.display()))?;
    anyhow::ensure!(
        !out.is_empty(),
        "{} has no labelled appeals",
        path.display()
    );
    Ok(out)
}

pub fn train(cmd: &TrainCommand) -> anyhow::Result<()> {
    let TrainCommand::Dispatch {
        data,
        out,
        settings,
    } = cmd;
    let examples = examples(data)?;
    let model = Model::train(
        &examples,
        &category_tree(TAXONOMY_CSV)?,
        &settings.settings()?,
    )?;
    std::fs::write(out, model.to_json()?)
        .with_context(|| format!("cannot write {}", out.display()))?;
    println!(
        "trained on {} appeals: {} classes, {} terms, {} category-tree words, temperature {:.2}; written to {}",
        examples.len(),
        model.classes.len(),
        model.vocabulary.len(),
        model.prior.as_ref().map_or(0, |p| p.words.len()),
        model.temperature,
        out.display()
    );
    Ok(())
}

pub fn eval(cmd: &EvalCommand) -> anyhow::Result<()> {
    let (data, folds, train, test, settings) = match cmd {
        EvalCommand::Search {
            queries,
            engine,
            meili,
            misses,
        } => return crate::knowledge::eval_search(queries.as_ref(), engine, meili, *misses),
        EvalCommand::Dispatch {
            data,
            folds,
            train,
            test,
            settings,
        } => (data, folds, train, test, settings),
    };
    let taxonomy = category_tree(TAXONOMY_CSV)?;
    let report = match (data, train, test) {
        (Some(data), _, _) => {
            eval::cross_validate(&examples(data)?, &taxonomy, *folds, &settings.settings()?)?
        }
        (None, Some(train), Some(test)) => eval::train_test(
            &examples(train)?,
            &examples(test)?,
            &taxonomy,
            &settings.settings()?,
        )?,
        _ => anyhow::bail!("give --data FILE, or --train FILE and --test FILE"),
    };
    println!("{report}");
    Ok(())
}
