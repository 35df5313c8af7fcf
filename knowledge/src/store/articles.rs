//! Writing articles: create, edit (a new version), the workflow steps, and the demo's import.
//! Every write checks the editor's duty through [`crate::workflow::next`], takes the article's
//! version optimistically (a stale `expected_version` answers 409 with the current one), appends
//! to the trail, and records a change when what the search holds changes.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use hotline_core::StoreError;
use hotline_core::db::schema::{categories, org_units};
use hotline_core::db::{DbConn, to_db};
use hotline_core::domain::{Role, UnitRef};
use hotline_core::ids::UnitId;
use hotline_core::store::units;

use super::read::{ArticleRow, VersionRow, article_row, get, version_row};
use super::{Editor, changes, list_json};
use crate::article::{Article, ArticleFields, ArticleId, check_note, check_slug};
use crate::error::KnowledgeError;
use crate::schema::{kb_article_log, kb_article_versions, kb_articles};
use crate::workflow::{ArticleState, Step, next};

/// A new article as a writer sends it.
#[derive(Debug, Clone)]
pub struct NewArticle {
    /// Its URL key; `None`: one is made up.
    pub slug: Option<String>,
    /// The owning unit; `None`: the writer's own unit.
    pub owner_unit_id: Option<UnitId>,
    pub fields: ArticleFields,
    pub note: Option<String>,
}

/// Checks what only the database knows: the category is in the catalogue and the areas are
/// org units. Empty areas become the owner's own.
fn check_references(
    conn: &mut DbConn,
    fields: &mut ArticleFields,
    owner_code: &str,
) -> Result<(), KnowledgeError> {
    let known: i64 = categories::table
        .filter(categories::full_name.eq(&fields.category))
        .filter(categories::active.eq(true))
        .count()
        .get_result(conn)?;
    if known == 0 {
        return Err(KnowledgeError::invalid(
            "category",
            "not a category of the catalogue (give its full name: 一级/二级/三级)",
        ));
    }
    for (i, code) in fields.areas.iter().enumerate() {
        let n: i64 = org_units::table
            .filter(org_units::code.eq(code))
            .count()
            .get_result(conn)?;
        if n == 0 {
            return Err(KnowledgeError::invalid(
                format!("areas[{i}]"),
                format!("no org unit has the code {code}"),
            ));
        }
    }
    if fields.areas.is_empty() {
        fields.areas.push(owner_code.to_owned());
    }
    Ok(())
}

fn owner_of(conn: &mut DbConn, id: &str) -> Result<(UnitRef, String), KnowledgeError> {
    let unit = units::get(conn, super::parse("kb_articles.owner_unit_id", id)?)?;
    Ok((unit.as_ref(), unit.code))
}

fn insert_version(
    conn: &mut DbConn,
    id: ArticleId,
    version: i32,
    f: &ArticleFields,
    author: Option<String>,
    note: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::insert_into(kb_article_versions::table)
        .values(VersionRow {
            article_id: id.to_string(),
            version,
            title: f.title.clone(),
            body: f.body.clone(),
            category: f.category.clone(),
            tags: list_json(&f.tags),
            areas: list_json(&f.areas),
            valid_from: f.valid_from,
            valid_to: f.valid_to,
            source: f.source.clone(),
            author_id: author,
            note,
            created_at: to_db(now),
        })
        .execute(conn)?;
    Ok(())
}

fn append_log(
    conn: &mut DbConn,
    id: ArticleId,
    action: &str,
    version: i32,
    editor: Option<&Editor>,
    note: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::insert_into(kb_article_log::table)
        .values((
            kb_article_log::article_id.eq(id.to_string()),
            kb_article_log::action.eq(action),
            kb_article_log::version.eq(version),
            kb_article_log::actor_id.eq(editor.map(|e| e.user_id.to_string())),
            kb_article_log::actor_role.eq(editor.map_or("system", |e| e.role.as_ref())),
            kb_article_log::note.eq(note),
            kb_article_log::occurred_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// What the first version of a new article is.
struct First {
    id: ArticleId,
    slug: String,
    owner: UnitId,
    /// Imported as published (the demo) rather than created as a draft.
    published: bool,
    author: Option<String>,
    note: Option<String>,
}

fn insert_first(
    conn: &mut DbConn,
    a: First,
    fields: &ArticleFields,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let state = if a.published {
        ArticleState::Published
    } else {
        ArticleState::Draft
    };
    diesel::insert_into(kb_articles::table)
        .values(ArticleRow {
            id: a.id.to_string(),
            slug: a.slug,
            state: state.to_string(),
            version: 1,
            published_version: a.published.then_some(1),
            owner_unit_id: a.owner.to_string(),
            title: fields.title.clone(),
            category: fields.category.clone(),
            review_note: None,
            created_at: to_db(now),
            updated_at: to_db(now),
        })
        .execute(conn)?;
    insert_version(conn, a.id, 1, fields, a.author, a.note, now)
}

fn slug_taken(conn: &mut DbConn, slug: &str) -> Result<bool, StoreError> {
    let n: i64 = kb_articles::table
        .filter(kb_articles::slug.eq(slug))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Creates a draft (version 1) owned by the editor's unit or a unit they write for.
pub fn create(
    conn: &mut DbConn,
    editor: &Editor,
    new: NewArticle,
    now: DateTime<Utc>,
) -> Result<Article, KnowledgeError> {
    let mut fields = new.fields.checked()?;
    let note = check_note(new.note.as_deref())?;
    let owner_id = new.owner_unit_id.unwrap_or(editor.unit.id);
    let (owner, owner_code) = owner_of(conn, &owner_id.to_string())
        .map_err(|_| KnowledgeError::invalid("owner_unit_id", "no such unit"))?;
    next(ArticleState::Draft, Step::Edit, editor.duty(&owner, None))?;
    check_references(conn, &mut fields, &owner_code)?;
    let id = ArticleId::new();
    let slug = match new.slug {
        Some(s) => check_slug(&s)?,
        None => format!("kb-{}", &id.to_string()[..8]),
    };
    if slug_taken(conn, &slug)? {
        return Err(StoreError::AlreadyExists {
            what: "an article with this slug",
            field: "slug",
        }
        .into());
    }
    let first = First {
        id,
        slug,
        owner: owner_id,
        published: false,
        author: Some(editor.user_id.to_string()),
        note: note.clone(),
    };
    insert_first(conn, first, &fields, now)?;
    append_log(conn, id, "create", 1, Some(editor), note, now)?;
    Ok(get(conn, id)?)
}

/// Loads the article for a change, locked until the transaction ends (PostgreSQL; SQLite has
/// one writer), so that of two concurrent steps on one version exactly one happens.
fn load_for_change(
    conn: &mut DbConn,
    editor: &Editor,
    id: ArticleId,
) -> Result<(ArticleRow, UnitRef, crate::workflow::Duty), KnowledgeError> {
    if let DbConn::Pg(_) = conn {
        diesel::sql_query("SELECT id FROM kb_articles WHERE id = $1 FOR UPDATE")
            .bind::<diesel::sql_types::Text, _>(id.to_string())
            .execute(conn)?;
    }
    let row = article_row(conn, id)?;
    let (owner, _) = owner_of(conn, &row.owner_unit_id)?;
    if !editor.sees_drafts_of(&owner) && row.published_version.is_none() {
        // Not even its existence leaks to those who could not see it.
        return Err(KnowledgeError::NotFound("article"));
    }
    let latest = version_row(conn, id, row.version)?;
    let author = latest.author_id.and_then(|a| a.parse().ok());
    let duty = editor.duty(&owner, author);
    Ok((row, owner, duty))
}

/// Takes the article from `expected` to the next version number; 409 when another change came
/// first (the conditional update is what two concurrent editors race on).
fn bump(
    conn: &mut DbConn,
    id: ArticleId,
    expected: i32,
    set_version: bool,
    now: DateTime<Utc>,
) -> Result<i32, KnowledgeError> {
    let to = if set_version { expected + 1 } else { expected };
    let n = diesel::update(
        kb_articles::table
            .filter(kb_articles::id.eq(id.to_string()))
            .filter(kb_articles::version.eq(expected)),
    )
    .set((
        kb_articles::version.eq(to),
        kb_articles::updated_at.eq(to_db(now)),
    ))
    .execute(conn)?;
    if n == 0 {
        let current = article_row(conn, id)?.version;
        return Err(KnowledgeError::VersionConflict { current });
    }
    Ok(to)
}

/// A new version of the text, made from version `expected`. A published article keeps serving
/// its published version until the new one is approved.
pub fn edit(
    conn: &mut DbConn,
    editor: &Editor,
    id: ArticleId,
    expected: i32,
    fields: ArticleFields,
    note: Option<String>,
    now: DateTime<Utc>,
) -> Result<Article, KnowledgeError> {
    let mut fields = fields.checked()?;
    let note = check_note(note.as_deref())?;
    let (row, owner, duty) = load_for_change(conn, editor, id)?;
    let state = next(
        super::parse("kb_articles.state", &row.state)?,
        Step::Edit,
        duty,
    )?;
    if row.version != expected {
        return Err(KnowledgeError::VersionConflict {
            current: row.version,
        });
    }
    let (_, owner_code) = owner_of(conn, &owner.id.to_string())?;
    check_references(conn, &mut fields, &owner_code)?;
    if version_row(conn, id, row.version)?.fields()? == fields {
        return Err(KnowledgeError::invalid(
            "body",
            "nothing changed: the text is the same as the latest version",
        ));
    }
    let version = bump(conn, id, expected, true, now)?;
    diesel::update(kb_articles::table.find(id.to_string()))
        .set((
            kb_articles::state.eq(state.to_string()),
            kb_articles::title.eq(&fields.title),
            kb_articles::category.eq(&fields.category),
        ))
        .execute(conn)?;
    let author = Some(editor.user_id.to_string());
    insert_version(conn, id, version, &fields, author, note.clone(), now)?;
    append_log(
        conn,
        id,
        Step::Edit.as_ref(),
        version,
        Some(editor),
        note,
        now,
    )?;
    Ok(get(conn, id)?)
}

/// A workflow step (not an edit) on the version `expected`.
pub fn step(
    conn: &mut DbConn,
    editor: &Editor,
    id: ArticleId,
    expected: i32,
    step: Step,
    note: Option<String>,
    now: DateTime<Utc>,
) -> Result<Article, KnowledgeError> {
    if step == Step::Edit {
        return Err(KnowledgeError::invalid(
            "step",
            "an edit sends the new text",
        ));
    }
    let note = check_note(note.as_deref())?;
    if step == Step::Reject && note.is_none() {
        return Err(KnowledgeError::invalid(
            "note",
            "say what the writers should change",
        ));
    }
    let (row, _, duty) = load_for_change(conn, editor, id)?;
    let state = next(super::parse("kb_articles.state", &row.state)?, step, duty)?;
    if row.version != expected {
        return Err(KnowledgeError::VersionConflict {
            current: row.version,
        });
    }
    let version = bump(conn, id, expected, false, now)?;
    let published = match step {
        Step::Publish => Some(version),
        // A restored article is a draft again: it is searchable only after a new review.
        Step::Restore => None,
        _ => row.published_version,
    };
    let review_note = match step {
        Step::Reject => note.clone(),
        Step::Publish => None,
        _ => row.review_note,
    };
    diesel::update(kb_articles::table.find(id.to_string()))
        .set((
            kb_articles::state.eq(state.to_string()),
            kb_articles::published_version.eq(published),
            kb_articles::review_note.eq(review_note),
        ))
        .execute(conn)?;
    append_log(conn, id, step.as_ref(), version, Some(editor), note, now)?;
    if matches!(step, Step::Publish | Step::Archive) && published.is_some() {
        changes::record(conn, id, now)?;
    }
    Ok(get(conn, id)?)
}

/// The demo's import: the article `slug` published as `fields`, owned by the unit `owner_code`.
/// An article that already has this slug is left as it is. Returns whether it was created.
pub fn import_published(
    conn: &mut DbConn,
    slug: &str,
    owner_code: &str,
    fields: ArticleFields,
    now: DateTime<Utc>,
) -> Result<bool, KnowledgeError> {
    let slug = check_slug(slug)?;
    if slug_taken(conn, &slug)? {
        return Ok(false);
    }
    let mut fields = fields.checked()?;
    let owner = units::by_code(conn, owner_code)?
        .ok_or_else(|| KnowledgeError::invalid("owner", format!("no unit {owner_code}")))?;
    check_references(conn, &mut fields, owner_code)?;
    let id = ArticleId::new();
    let first = First {
        id,
        slug,
        owner: owner.id,
        published: true,
        author: None,
        note: None,
    };
    insert_first(conn, first, &fields, now)?;
    append_log(conn, id, "import", 1, None, None, now)?;
    changes::record(conn, id, now)?;
    Ok(true)
}

/// The role a log line names for an editor (for callers that show it).
pub fn role_label(role: &str) -> String {
    role.parse::<Role>()
        .map_or_else(|_| role.to_owned(), |r| r.label_zh().to_owned())
}
