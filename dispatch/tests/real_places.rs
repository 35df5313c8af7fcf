#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
//! Place resolution on real appeals: `tests/fixtures/appeal_places.json` says, from reading each
//! appeal, which place it is about; the resolver, on the demo's org tree and place names, must
//! find that unit or one inside it, and nothing where the appeal names no place of A市.

use std::collections::HashMap;

use hotline_dispatch::places::Resolver;
use hotline_dispatch::routing::offline::demo;

const FIXTURE: &str = include_str!("../../tests/fixtures/appeal_places.json");

fn appeals() -> HashMap<String, (String, String)> {
    let mut out = HashMap::new();
    for (prefix, text) in [
        ("m", include_str!("../../demo/appeals/messages.csv")),
        ("r", include_str!("../../demo/appeals/replies.csv")),
        ("h", include_str!("../../demo/appeals/hot_messages.csv")),
    ] {
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let headers = r.headers().unwrap().clone();
        let col = |n: &str| headers.iter().position(|h| h == n).unwrap();
        let (id, title, detail) = (col("id"), col("title"), col("detail"));
        for rec in r.records() {
            let rec = rec.unwrap();
            out.insert(
                format!("{prefix}{}", &rec[id]),
                (rec[title].to_owned(), rec[detail].to_owned()),
            );
        }
    }
    out
}

#[test]
fn real_appeals_are_placed_where_a_reader_places_them() {
    let d = demo(
        include_str!("../../demo/org.csv"),
        include_str!("../../demo/appeals/taxonomy.csv"),
        include_str!("../../demo/places.csv"),
        include_str!("../../demo/areas.geojson"),
    );
    let r = Resolver::new(&d.data.places, &d.data.place_names, Vec::new());
    let fixture: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
    let texts = appeals();
    let mut exact = 0;
    let mut failures = Vec::new();
    let list = fixture["appeals"].as_array().unwrap();
    for a in list {
        let id = a["id"].as_str().unwrap();
        let (title, detail) = texts
            .get(id)
            .unwrap_or_else(|| panic!("{id} is not a shipped appeal"));
        let found = r.locate(None, title, detail, None);
        let found_code = found.as_ref().map(|l| r.unit(l.unit).code.clone());
        match (a["place"].as_str(), &found) {
            (None, None) => exact += 1,
            (Some(want), Some(l)) => {
                let want_index = r
                    .index_of(want)
                    .unwrap_or_else(|| panic!("{id}: {want} is no place unit"));
                if l.unit == want_index {
                    exact += 1;
                } else if !r.within(l.unit, want_index) {
                    failures.push(format!("{id}: found {found_code:?}, a reader says {want}"));
                }
            }
            (want, _) => failures.push(format!(
                "{id}: found {found_code:?}, a reader says {want:?}"
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Most are found exactly; the others at a more specific unit inside the reader's place.
    assert!(
        exact * 10 >= list.len() * 8,
        "{exact} of {} exact",
        list.len()
    );
    assert!(list.len() >= 30);
}
