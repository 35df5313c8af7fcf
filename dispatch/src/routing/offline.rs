//! A router without a database, from the demo's files (the org tree CSV, the category tree, the
//! place names, the areas) and the default rules: for the benchmark and the tests, which must
//! measure and check exactly what the server runs, minus the storage.

use std::collections::HashMap;

use hotline_core::domain::{Level, UnitKind};
use hotline_core::ids::{CategoryId, UnitId};
use hotline_core::places::PlaceRow;

use super::defaults;
use super::engine::{CategoryInfo, RouterData, UnitInfo};
use super::rule::Rule;
use crate::places::{areas, names};

/// The demo's data, ids made up as the database would.
pub struct DemoData {
    pub data: RouterData,
    /// Unit ids by code.
    pub units: HashMap<String, UnitId>,
    /// First-level category ids by name.
    pub top_categories: HashMap<String, CategoryId>,
}

/// Builds the router data of `org_csv` (columns of `demo/org.csv`), `taxonomy_csv`
/// (`level1,level2,level3`), `places_csv` (`name,unit_code,source`) and `areas_geojson`, with
/// the default rules. Lines it cannot read are skipped: the inputs are the shipped files.
pub fn demo(org_csv: &str, taxonomy_csv: &str, places_csv: &str, areas_geojson: &str) -> DemoData {
    let mut units: Vec<UnitInfo> = Vec::new();
    let mut places: Vec<PlaceRow> = Vec::new();
    let mut by_code: HashMap<String, UnitId> = HashMap::new();
    let mut reader = csv::Reader::from_reader(org_csv.as_bytes());
    for r in reader.records().flatten() {
        let get = |i: usize| r.get(i).unwrap_or_default().to_owned();
        let (code, name, parent) = (get(0), get(1), get(4));
        let (Ok(level), Ok(kind)) = (get(2).parse::<Level>(), get(3).parse::<UnitKind>()) else {
            continue;
        };
        let id = UnitId::new();
        let parent_unit = by_code
            .get(&parent)
            .and_then(|p| units.iter().find(|u| u.id == *p));
        let path = format!("{}{id}/", parent_unit.map_or("/", |p| p.path.as_str()));
        if kind == UnitKind::Government {
            places.push(PlaceRow {
                id: id.to_string(),
                code: code.clone(),
                name: name.clone(),
                level: level.as_ref().to_owned(),
                parent_id: parent_unit.map(|p| p.id.to_string()),
            });
        }
        by_code.insert(code.clone(), id);
        units.push(UnitInfo {
            id,
            code,
            name,
            level,
            kind,
            path,
            active: true,
        });
    }
    let mut categories: Vec<CategoryInfo> = Vec::new();
    let mut by_path: HashMap<String, CategoryId> = HashMap::new();
    let mut reader = csv::Reader::from_reader(taxonomy_csv.as_bytes());
    for r in reader.records().flatten() {
        let mut parent: Option<CategoryId> = None;
        let mut path = String::new();
        for (level, name) in r.iter().enumerate().filter(|(_, n)| !n.trim().is_empty()) {
            path = format!("{path}/{name}");
            let id = *by_path.entry(path.clone()).or_insert_with(|| {
                let id = CategoryId::new();
                categories.push(CategoryInfo {
                    id,
                    parent_id: parent,
                    level: i32::try_from(level + 1).unwrap_or(3),
                    name: name.to_owned(),
                });
                id
            });
            parent = Some(id);
        }
    }
    let top_categories: HashMap<String, CategoryId> = categories
        .iter()
        .filter(|c| c.level == 1)
        .map(|c| (c.name.clone(), c.id))
        .collect();
    let now = chrono::Utc::now();
    let rules = defaults::inputs(&|c| by_code.get(c).copied(), &|n| {
        top_categories.get(n).copied()
    })
    .into_iter()
    .enumerate()
    .map(|(i, input)| Rule {
        id: uuid::Uuid::new_v4(),
        position: i32::try_from(i).unwrap_or(i32::MAX),
        created_at: now,
        updated_at: now,
        ..Rule::from_input(&input)
    })
    .collect::<Vec<_>>();
    let mut rules = rules;
    rules.sort_by_key(|r| (std::cmp::Reverse(r.priority), r.position));
    let place_names = names::parse(places_csv)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| Some((p.name, by_code.get(&p.unit_code)?.to_string())))
        .collect();
    let areas = areas::parse(areas_geojson)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|a| Some((by_code.get(&a.code)?.to_string(), a.shape)))
        .collect();
    DemoData {
        data: RouterData {
            units,
            categories,
            rules,
            places,
            place_names,
            areas,
        },
        units: by_code,
        top_categories,
    }
}
