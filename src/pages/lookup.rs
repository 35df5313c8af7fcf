//! The org tree and the category catalogue as pages need them: unit names for ids, and the
//! options of the unit and category pickers. The tree is small (a few hundred units), so a page
//! reads it whole.

use std::collections::HashMap;

use hotline_core::domain::{Level, UnitKind, UnitRef};
use hotline_core::ids::{CategoryId, UnitId};
use hotline_core::store::categories::{self, Category};
use hotline_core::store::units::{self, Unit, UnitFilter};
use hotline_core::ticket::machine::jurisdiction;
use hotline_core::workflow::Hotline;
use hotline_core::{ApiError, StoreError};
use serde::Serialize;
use strum::IntoEnumIterator;

/// One `<option>`.
#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    pub id: String,
    pub name: String,
}

/// One `<optgroup>`.
#[derive(Debug, Clone, Serialize)]
pub struct ChoiceGroup {
    pub label: String,
    pub choices: Vec<Choice>,
}

pub struct Units {
    all: Vec<Unit>,
    by_id: HashMap<UnitId, usize>,
}

impl Units {
    pub async fn load(hotline: &Hotline) -> Result<Self, ApiError> {
        let all = hotline
            .db
            .run(|c| units::list(c, &UnitFilter::default()))
            .await?;
        let by_id = all.iter().enumerate().map(|(i, u)| (u.id, i)).collect();
        Ok(Self { all, by_id })
    }

    pub fn name(&self, id: UnitId) -> String {
        self.by_id
            .get(&id)
            .map_or_else(|| "（未知单位）".to_owned(), |i| self.all[*i].name.clone())
    }

    pub fn opt_name(&self, id: Option<UnitId>) -> Option<String> {
        id.map(|id| self.name(id))
    }

    pub fn names(&self, ids: &[UnitId]) -> Vec<String> {
        ids.iter().map(|id| self.name(*id)).collect()
    }

    /// Active handling units (no centres) matching `keep`, grouped by level from the top.
    fn grouped(&self, keep: impl Fn(&UnitRef) -> bool) -> Vec<ChoiceGroup> {
        Level::iter()
            .filter_map(|level| {
                let choices: Vec<Choice> = self
                    .all
                    .iter()
                    .filter(|u| u.active && u.kind != UnitKind::Centre && u.level == level)
                    .filter(|u| keep(&u.as_ref()))
                    .map(|u| Choice {
                        id: u.id.to_string(),
                        name: u.name.clone(),
                    })
                    .collect();
                (!choices.is_empty()).then(|| ChoiceGroup {
                    label: level.label_zh().to_owned(),
                    choices,
                })
            })
            .collect()
    }

    /// Where a centre may dispatch: handling units in its jurisdiction.
    pub fn dispatch_targets(&self, from: &UnitRef) -> Vec<ChoiceGroup> {
        let area = jurisdiction(from).to_owned();
        self.grouped(|u| u.path.starts_with(&area))
    }

    /// The areas a routing rule may name: local governments below the province in the
    /// caller's jurisdiction.
    pub fn governments(&self, from: &UnitRef) -> Vec<ChoiceGroup> {
        let area = jurisdiction(from).to_owned();
        self.grouped(|u| {
            u.kind == UnitKind::Government
                && u.level != Level::Province
                && u.path.starts_with(&area)
        })
    }

    /// Where a unit may pass a ticket down: units strictly below it.
    pub fn below(&self, from: &UnitRef) -> Vec<ChoiceGroup> {
        self.grouped(|u| u.is_below(from))
    }
}

/// Active categories for a picker, grouped under their first level, each second level followed
/// by its third levels ("供水/水质问题"). `max_level` 2 gives the list filter, 3 the whole catalogue.
pub async fn category_groups(
    hotline: &Hotline,
    max_level: i32,
) -> Result<Vec<ChoiceGroup>, ApiError> {
    let all = hotline.db.run(categories::list).await?;
    let children = |parent: &Category| {
        all.iter()
            .filter(move |c| c.active && c.parent_id == Some(parent.id))
            .collect::<Vec<_>>()
    };
    let mut groups = Vec::new();
    for top in all.iter().filter(|c| c.level == 1 && c.active) {
        let prefix = format!("{}/", top.full_name);
        let choice = |c: &Category| Choice {
            id: c.id.to_string(),
            name: c
                .full_name
                .strip_prefix(&prefix)
                .unwrap_or(&c.full_name)
                .to_owned(),
        };
        let mut choices = vec![Choice {
            id: top.id.to_string(),
            name: top.name.clone(),
        }];
        for second in children(top) {
            choices.push(choice(second));
            if max_level >= 3 {
                choices.extend(children(second).into_iter().map(choice));
            }
        }
        groups.push(ChoiceGroup {
            label: top.name.clone(),
            choices,
        });
    }
    Ok(groups)
}

/// The full name of a ticket's category, if it still exists.
pub async fn category_name(
    hotline: &Hotline,
    id: Option<CategoryId>,
) -> Result<Option<String>, ApiError> {
    let Some(id) = id else {
        return Ok(None);
    };
    match hotline.db.run(move |c| categories::get(c, id)).await {
        Ok(c) => Ok(Some(c.full_name)),
        Err(StoreError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Staff names for change logs, each account read once: 姓名（登录名）.
#[derive(Default)]
pub struct UserNames(HashMap<hotline_core::ids::UserId, String>);

impl UserNames {
    /// The name of `id`, or `none` when the change had no user (the system made it).
    pub fn of(
        &mut self,
        c: &mut hotline_core::DbConn,
        id: Option<hotline_core::ids::UserId>,
        none: &str,
    ) -> String {
        let Some(id) = id else {
            return none.to_owned();
        };
        self.0
            .entry(id)
            .or_insert_with(|| {
                hotline_core::store::users::get(c, id).map_or_else(
                    |_| "（已删除的用户）".to_owned(),
                    |u| format!("{}（{}）", u.display_name, u.username),
                )
            })
            .clone()
    }
}
