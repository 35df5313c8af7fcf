//! Shows how a query is analysed (for tuning the search).
use hotline_knowledge::analyze::{Analyzer, parse_synonyms};
fn main() {
    let syn = std::env::args().nth(2).unwrap_or_default();
    let a = Analyzer::new(parse_synonyms(&syn).unwrap_or_default(), &[]);
    let q = std::env::args().nth(1).unwrap_or_default();
    println!("{:?}", a.query(&q));
}
