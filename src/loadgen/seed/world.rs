//! What the seeded tickets are made of, read from the database once: the receiving centre and the
//! units below it (city departments, district governments with their departments and streets,
//! communities), their areas, the category tree and the staff who act.

use std::collections::HashMap;

use anyhow::{Context, bail};
use hotline_core::domain::{Level, UnitKind, UnitRef};
use hotline_core::ids::{CategoryId, UnitId};
use hotline_core::store::categories;
use hotline_core::store::units::{self, Unit, UnitFilter};
use hotline_core::ticket::machine::jurisdiction;
use rand::Rng;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};

use super::geo::{self, Shape};
use super::staff::{self, Staff};
use crate::config::Settings;

/// The city departments that usually handle a first-level category of the official taxonomy
/// (by the last part of their code, as in the demo tree: 990100-ZJJ is 住房和城乡建设局).
const DEPARTMENTS: &[(&str, &[&str])] = &[
    ("城乡建设", &["ZJJ", "CGJ", "ZRZYJ"]),
    ("劳动和社会保障", &["RSJ", "YBJ"]),
    ("教育文体", &["JYJ", "WLJ"]),
    ("交通运输", &["JTJ"]),
    ("卫生计生", &["WJW", "YBJ"]),
    ("商贸旅游", &["SWJ", "SJJ", "WLJ"]),
    ("环境保护", &["STHJJ"]),
    ("党务政务", &["FGW"]),
    ("农村农业", &["NYNCJ", "SLJ"]),
    ("国土资源", &["ZRZYJ"]),
    ("政法", &["GAJ"]),
    ("民政", &["MZJ", "TYJRJ"]),
    ("经济管理", &["FGW", "SJJ"]),
    ("科技与信息产业", &["FGW"]),
    ("纪检监察", &["FGW"]),
];

pub struct District {
    pub id: UnitId,
    pub name: String,
    pub streets: Vec<UnitId>,
    /// (code suffix, unit): the district's own departments (ZJJ, CGJ …).
    pub departments: Vec<(String, UnitId)>,
    pub shape: Option<Shape>,
}

pub struct Street {
    pub name: String,
    pub code: String,
    pub communities: Vec<UnitId>,
    pub shape: Option<Shape>,
}

/// A weighted draw from a list.
pub struct Pick<T> {
    items: Vec<T>,
    weights: WeightedIndex<f64>,
}

impl<T: Copy> Pick<T> {
    fn new(items: Vec<T>, weights: Vec<f64>) -> Option<Self> {
        let weights = WeightedIndex::new(weights).ok()?;
        Some(Self { items, weights })
    }

    pub fn draw(&self, rng: &mut StdRng) -> Option<T> {
        self.items.get(self.weights.sample(rng)).copied()
    }
}

/// Categories weighted toward the common ones: within each first-level category a Zipf law over
/// its leaves, in an order shuffled by the seed (which leaves are common differs by tree).
pub struct Categories {
    by_top: HashMap<String, Pick<CategoryId>>,
    all: Pick<CategoryId>,
}

impl Categories {
    fn new(all: &[categories::Category], rng: &mut StdRng) -> Option<Self> {
        let active: Vec<&categories::Category> = all.iter().filter(|c| c.active).collect();
        let is_parent = |id| active.iter().any(|c| c.parent_id == Some(id));
        let leaves: Vec<&categories::Category> = active
            .iter()
            .copied()
            .filter(|c| !is_parent(c.id))
            .collect();
        let zipf = |mut ids: Vec<CategoryId>, rng: &mut StdRng| {
            ids.shuffle(rng);
            let w = (0..ids.len())
                .map(|r| 1.0 / (r as f64 + 1.0).powf(1.07))
                .collect();
            Pick::new(ids, w)
        };
        let mut by_top = HashMap::new();
        for top in active.iter().filter(|c| c.level == 1) {
            let prefix = format!("{}/", top.full_name);
            let ids: Vec<CategoryId> = leaves
                .iter()
                .filter(|c| c.id == top.id || c.full_name.starts_with(&prefix))
                .map(|c| c.id)
                .collect();
            if let Some(p) = zipf(ids, rng) {
                by_top.insert(top.name.clone(), p);
            }
        }
        let all = zipf(leaves.iter().map(|c| c.id).collect(), rng)?;
        Some(Self { by_top, all })
    }

    /// A category under the first-level category `top` (by name), or anywhere in the tree.
    pub fn draw(&self, rng: &mut StdRng, top: Option<&str>) -> Option<CategoryId> {
        top.and_then(|t| self.by_top.get(t))
            .unwrap_or(&self.all)
            .draw(rng)
    }
}

pub struct World {
    pub centre: UnitRef,
    pub refs: HashMap<UnitId, UnitRef>,
    pub names: HashMap<UnitId, String>,
    pub districts: Vec<District>,
    pub district_names: Vec<String>,
    district_pick: Option<Pick<usize>>,
    pub streets: HashMap<UnitId, Street>,
    pub departments: Vec<UnitId>,
    by_category: HashMap<String, Vec<UnitId>>,
    pub categories: Categories,
    pub staff: Staff,
}

fn suffix(code: &str) -> &str {
    code.rsplit_once('-').map_or(code, |(_, s)| s)
}

impl World {
    pub fn load(
        h: &hotline_core::workflow::Hotline,
        s: &Settings,
        rng: &mut StdRng,
    ) -> anyhow::Result<Self> {
        let mut c = h.db.get()?;
        let centre_id = hotline_intake::submit::resolve_centre(&mut c, Some(&s.intake_centre))
            .map_err(|e| anyhow::anyhow!("the receiving centre: {e}"))?;
        let centre = units::get(&mut c, centre_id)?;
        let centre_ref = centre.as_ref();
        let within = jurisdiction(&centre_ref).to_owned();
        let all: Vec<Unit> = units::list(
            &mut c,
            &UnitFilter {
                within_path: Some(within.clone()),
                ..UnitFilter::default()
            },
        )?
        .into_iter()
        .filter(|u| u.active && u.kind != UnitKind::Centre)
        .collect();
        let city = all.iter().find(|u| u.path == within).map(|u| u.id);
        let children = |parent: UnitId, level: Level, kind: UnitKind| -> Vec<&Unit> {
            all.iter()
                .filter(|u| u.parent_id == Some(parent) && u.level == level && u.kind == kind)
                .collect()
        };
        let shapes: HashMap<String, Shape> = geo::load(&mut c)?.into_iter().collect();
        let departments: Vec<&Unit> = all
            .iter()
            .filter(|u| u.kind == UnitKind::Department && u.parent_id == city && city.is_some())
            .collect();
        let mut handling: Vec<Unit> = departments.iter().map(|u| (*u).clone()).collect();
        let mut districts = Vec::new();
        let mut streets = HashMap::new();
        let district_units: Vec<&Unit> = all
            .iter()
            .filter(|u| u.level == Level::District && u.kind == UnitKind::Government)
            .collect();
        for d in &district_units {
            let mut street_ids = Vec::new();
            for st in children(d.id, Level::Street, UnitKind::Government) {
                let communities = children(st.id, Level::Community, UnitKind::Government);
                handling.extend(communities.iter().map(|u| (*u).clone()));
                streets.insert(
                    st.id,
                    Street {
                        name: st.name.clone(),
                        code: st.code.clone(),
                        communities: communities.iter().map(|u| u.id).collect(),
                        shape: shapes.get(&st.id.to_string()).cloned(),
                    },
                );
                street_ids.push(st.id);
                handling.push(st.clone());
            }
            let own = children(d.id, Level::District, UnitKind::Department);
            handling.extend(own.iter().map(|u| (*u).clone()));
            handling.push((*d).clone());
            districts.push(District {
                id: d.id,
                name: d.name.clone(),
                streets: street_ids,
                departments: own
                    .iter()
                    .map(|u| (suffix(&u.code).to_owned(), u.id))
                    .collect(),
                shape: shapes.get(&d.id.to_string()).cloned(),
            });
        }
        if districts.is_empty() && departments.is_empty() {
            bail!(
                "the centre {} has no districts or departments below it: import the org tree (hotline import org demo/org.csv)",
                centre.code
            );
        }
        let city_code = all
            .iter()
            .find(|u| Some(u.id) == city)
            .map(|u| u.code.clone());
        let mut by_category: HashMap<String, Vec<UnitId>> = HashMap::new();
        for (top, suffixes) in DEPARTMENTS {
            let found: Vec<UnitId> = departments
                .iter()
                .filter(|u| {
                    suffixes.contains(&suffix(&u.code))
                        && city_code.as_deref().is_some_and(|c| u.code.starts_with(c))
                })
                .map(|u| u.id)
                .collect();
            if !found.is_empty() {
                by_category.insert((*top).to_owned(), found);
            }
        }
        let tree = categories::list(&mut c)?;
        let categories = Categories::new(&tree, rng).context(
            "the category tree is empty: run `hotline import categories demo/appeals/taxonomy.csv`",
        )?;
        // Urban districts take more appeals than rural counties; the spread is drawn per seed.
        let weights: Vec<f64> = districts
            .iter()
            .map(|d| {
                let rural = d.name.ends_with('县') || d.name.ends_with('市');
                rng.random_range(0.7..1.3) * if rural { 0.6 } else { 1.0 }
            })
            .collect();
        let district_pick = Pick::new((0..districts.len()).collect(), weights);
        let staff = staff::ensure(&h.db, &centre, &handling)?;
        let mut refs: HashMap<UnitId, UnitRef> =
            handling.iter().map(|u| (u.id, u.as_ref())).collect();
        refs.insert(centre.id, centre_ref.clone());
        Ok(Self {
            centre: centre_ref,
            names: handling.iter().map(|u| (u.id, u.name.clone())).collect(),
            refs,
            district_names: districts.iter().map(|d| d.name.clone()).collect(),
            districts,
            district_pick,
            streets,
            departments: departments.iter().map(|u| u.id).collect(),
            by_category,
            categories,
            staff,
        })
    }

    pub fn has_areas(&self) -> bool {
        self.districts.iter().any(|d| d.shape.is_some())
    }

    pub fn pick_district(&self, rng: &mut StdRng) -> Option<usize> {
        self.district_pick.as_ref().and_then(|p| p.draw(rng))
    }

    /// The street of district `d` whose area holds the position, if any.
    pub fn street_at(&self, d: usize, lat: f64, lon: f64) -> Option<UnitId> {
        self.districts.get(d)?.streets.iter().copied().find(|s| {
            self.streets
                .get(s)
                .and_then(|st| st.shape.as_ref())
                .is_some_and(|sh| sh.contains(lon, lat))
        })
    }

    /// A city department for a first-level category, or any city department.
    pub fn department(&self, rng: &mut StdRng, top: Option<&str>) -> Option<UnitId> {
        top.and_then(|t| self.by_category.get(t))
            .unwrap_or(&self.departments)
            .choose(rng)
            .copied()
    }

    /// District `d`'s own department for a first-level category, if it has one.
    pub fn district_department(&self, d: usize, top: Option<&str>) -> Option<UnitId> {
        let (_, suffixes) = DEPARTMENTS.iter().find(|(t, _)| Some(*t) == top)?;
        self.districts
            .get(d)?
            .departments
            .iter()
            .find_map(|(s, id)| suffixes.contains(&s.as_str()).then_some(*id))
    }

    pub fn name(&self, id: UnitId) -> &str {
        self.names.get(&id).map_or("承办单位", String::as_str)
    }
}
