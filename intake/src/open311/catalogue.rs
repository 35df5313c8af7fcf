//! The GeoReport services: the official catalogue's level-2 categories (二级分类). A level-1
//! category is too broad to act on and the ~500 level-3 ones are too many for a picker, so a
//! service is a level-2 category: `group` is its level-1 name and its level-3 names describe it.
//! `service_code` is the category's id, which stays the same across re-imports and renames.
//! A ticket filed under a level-3 category belongs to that category's level-2 service.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use hotline_core::db::DbConn;
use hotline_core::domain::{AppealType, Urgency};
use hotline_core::ids::CategoryId;
use hotline_core::store::categories::{self, Category};
use strum::IntoEnumIterator;

use super::doc::Node;
use crate::error::IntakeError;

/// The attribute codes of every service definition.
pub const APPEAL_TYPE: &str = "appeal_type";
pub const URGENCY: &str = "urgency";
pub const CITIZEN_ID_NUMBER: &str = "citizen_id_number";

#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub code: CategoryId,
    pub name: String,
    pub group: String,
    /// Its active level-3 categories' names.
    pub parts: Vec<String>,
}

impl Service {
    pub fn description(&self) -> String {
        if self.parts.is_empty() {
            self.name.clone()
        } else {
            self.parts.join("、")
        }
    }

    pub fn keywords(&self) -> String {
        let mut words = vec![self.group.as_str(), self.name.as_str()];
        words.extend(self.parts.iter().map(String::as_str));
        words.join(", ")
    }

    /// One entry of GET services.
    pub fn node(&self) -> Node {
        Node::Map(vec![
            ("service_code", Node::text(self.code.to_string())),
            ("service_name", Node::text(&self.name)),
            ("description", Node::text(self.description())),
            ("metadata", Node::Bool(true)),
            ("type", Node::text("realtime")),
            ("keywords", Node::text(self.keywords())),
            ("group", Node::text(&self.group)),
        ])
    }

    /// GET services/{code}: the attributes every appeal may carry.
    pub fn definition(&self) -> Node {
        let values = |pairs: Vec<(String, &str)>| {
            Node::List(
                "value",
                pairs
                    .into_iter()
                    .map(|(key, name)| {
                        Node::Map(vec![("key", Node::Text(key)), ("name", Node::text(name))])
                    })
                    .collect(),
            )
        };
        let attribute = |order: u64,
                         code: &str,
                         datatype: &str,
                         required: bool,
                         description: &str,
                         list: Option<Node>| {
            Node::Map(vec![
                ("variable", Node::Bool(true)),
                ("code", Node::text(code)),
                ("datatype", Node::text(datatype)),
                ("required", Node::Bool(required)),
                ("datatype_description", Node::Null),
                ("order", Node::Int(order)),
                ("description", Node::text(description)),
                ("values", list.unwrap_or(Node::List("value", Vec::new()))),
            ])
        };
        Node::Map(vec![
            ("service_code", Node::text(self.code.to_string())),
            (
                "attributes",
                Node::List(
                    "attribute",
                    vec![
                        attribute(
                            1,
                            APPEAL_TYPE,
                            "singlevaluelist",
                            true,
                            "诉求类型",
                            Some(values(
                                AppealType::iter()
                                    .map(|t| (t.to_string(), t.label_zh()))
                                    .collect(),
                            )),
                        ),
                        attribute(
                            2,
                            URGENCY,
                            "singlevaluelist",
                            false,
                            "紧急程度（默认一般）",
                            Some(values(
                                Urgency::iter()
                                    .map(|u| (u.to_string(), u.label_zh()))
                                    .collect(),
                            )),
                        ),
                        attribute(
                            3,
                            CITIZEN_ID_NUMBER,
                            "string",
                            false,
                            "居民身份证号码：仅当诉求事项需要核实身份时填写（如社保、公积金、户籍），其他诉求请勿填写",
                            None,
                        ),
                    ],
                ),
            ),
        ])
    }
}

/// The catalogue as the Open311 door sees it, loaded once per request.
pub struct Catalogue {
    by_id: HashMap<CategoryId, Category>,
    ordered: Vec<Category>,
}

impl Catalogue {
    pub fn load(conn: &mut DbConn) -> Result<Self, IntakeError> {
        let ordered = categories::list(conn)?;
        let by_id = ordered.iter().map(|c| (c.id, c.clone())).collect();
        Ok(Self { by_id, ordered })
    }

    fn parent(&self, c: &Category) -> Option<&Category> {
        c.parent_id.and_then(|p| self.by_id.get(&p))
    }

    fn service_from(&self, c: &Category) -> Service {
        Service {
            code: c.id,
            name: c.name.clone(),
            group: self.parent(c).map(|p| p.name.clone()).unwrap_or_default(),
            parts: self
                .ordered
                .iter()
                .filter(|child| child.parent_id == Some(c.id) && child.active)
                .map(|child| child.name.clone())
                .collect(),
        }
    }

    fn is_offered(&self, c: &Category) -> bool {
        c.level == 2 && c.active && self.parent(c).is_none_or(|p| p.active)
    }

    /// The public service list: active level-2 categories under active level-1 ones, in the
    /// catalogue's order.
    pub fn services(&self) -> Vec<Service> {
        let mut offered: Vec<&Category> =
            self.ordered.iter().filter(|c| self.is_offered(c)).collect();
        offered.sort_by_key(|c| {
            (
                self.parent(c).map_or(0, |p| p.sort_order),
                c.sort_order,
                c.full_name.clone(),
            )
        });
        offered.into_iter().map(|c| self.service_from(c)).collect()
    }

    /// The offered service with this code; None for anything else (unknown, retired, not level 2).
    pub fn offered(&self, code: &str) -> Option<Service> {
        let id: CategoryId = code.trim().parse().ok()?;
        self.by_id
            .get(&id)
            .filter(|c| self.is_offered(c))
            .map(|c| self.service_from(c))
    }

    /// The service a ticket's category belongs to (retired ones too: old requests keep theirs).
    pub fn service_of(&self, category: Option<CategoryId>) -> Option<&Category> {
        let c = self.by_id.get(&category?)?;
        match c.level {
            2 => Some(c),
            3 => self.parent(c).filter(|p| p.level == 2),
            _ => None,
        }
    }

    /// The categories whose tickets are service requests of `codes` (each level-2 category and
    /// its level-3 children); every level-2 and level-3 category when `codes` is None.
    pub fn request_categories(&self, codes: Option<&[CategoryId]>) -> Vec<CategoryId> {
        self.ordered
            .iter()
            .filter(|c| match self.service_of(Some(c.id)) {
                None => false,
                Some(service) => codes.is_none_or(|codes| codes.contains(&service.id)),
            })
            .map(|c| c.id)
            .collect()
    }

    /// When the service list or a definition last changed: discovery's changeset.
    pub fn changeset(&self) -> Option<DateTime<Utc>> {
        self.ordered.iter().map(|c| c.updated_at).max()
    }
}
