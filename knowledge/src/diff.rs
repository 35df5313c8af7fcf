//! The readable difference between two versions of an article: which fields changed (old and
//! new value), and the body line by line, where a changed line also shows which characters
//! changed (Chinese has no spaces, so words are not a useful unit here).

use serde::Serialize;
use similar::{ChangeTag, DiffOp, TextDiff};

use crate::article::ArticleFields;

/// A field whose value differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldChange {
    pub field: &'static str,
    pub label: &'static str,
    pub old: String,
    pub new: String,
}

/// A piece of a body line: unchanged, or the changed characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Piece {
    pub text: String,
    pub changed: bool,
}

/// One line of the body's difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DiffLine {
    /// `equal`, `delete` (only in the old version) or `insert` (only in the new).
    pub tag: &'static str,
    pub pieces: Vec<Piece>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ArticleDiff {
    pub from: i32,
    pub to: i32,
    pub fields: Vec<FieldChange>,
    pub body: Vec<DiffLine>,
}

fn list(v: &[String]) -> String {
    v.join("、")
}

fn day(d: Option<chrono::NaiveDate>) -> String {
    d.map_or_else(|| "不限".to_owned(), |d| d.to_string())
}

/// Lines of unchanged text kept around each change; longer unchanged runs are folded.
const CONTEXT: usize = 2;

pub fn diff(from: (i32, &ArticleFields), to: (i32, &ArticleFields)) -> ArticleDiff {
    let (a, b) = (from.1, to.1);
    let mut fields = Vec::new();
    let mut field = |field, label, old: String, new: String| {
        if old != new {
            fields.push(FieldChange {
                field,
                label,
                old,
                new,
            });
        }
    };
    field("title", "标题", a.title.clone(), b.title.clone());
    field("category", "分类", a.category.clone(), b.category.clone());
    field("tags", "标签", list(&a.tags), list(&b.tags));
    field("areas", "适用区域", list(&a.areas), list(&b.areas));
    field(
        "valid_from",
        "生效日期",
        day(a.valid_from),
        day(b.valid_from),
    );
    field("valid_to", "失效日期", day(a.valid_to), day(b.valid_to));
    field(
        "source",
        "依据",
        a.source.clone().unwrap_or_default(),
        b.source.clone().unwrap_or_default(),
    );
    ArticleDiff {
        from: from.0,
        to: to.0,
        fields,
        body: body_lines(&a.body, &b.body),
    }
}

fn whole(tag: &'static str, line: &str) -> DiffLine {
    DiffLine {
        tag,
        pieces: vec![Piece {
            text: line.trim_end_matches('\n').to_owned(),
            changed: tag != "equal",
        }],
    }
}

/// A replaced line pair, each side with its changed characters marked.
fn paired(old: &str, new: &str) -> (DiffLine, DiffLine) {
    let chars = TextDiff::from_chars(old.trim_end_matches('\n'), new.trim_end_matches('\n'));
    let (mut del, mut ins) = (Vec::new(), Vec::new());
    for change in chars.iter_all_changes() {
        let text = change.value().to_owned();
        let push = |side: &mut Vec<Piece>, changed: bool| match side.last_mut() {
            Some(p) if p.changed == changed => p.text.push_str(&text),
            _ => side.push(Piece {
                text: text.clone(),
                changed,
            }),
        };
        match change.tag() {
            ChangeTag::Equal => {
                push(&mut del, false);
                push(&mut ins, false);
            }
            ChangeTag::Delete => push(&mut del, true),
            ChangeTag::Insert => push(&mut ins, true),
        }
    }
    (
        DiffLine {
            tag: "delete",
            pieces: del,
        },
        DiffLine {
            tag: "insert",
            pieces: ins,
        },
    )
}

fn body_lines(old: &str, new: &str) -> Vec<DiffLine> {
    let lines = TextDiff::from_lines(old, new);
    let (old_lines, new_lines): (Vec<&str>, Vec<&str>) =
        (lines.old_slices().to_vec(), lines.new_slices().to_vec());
    let mut out = Vec::new();
    for group in lines.grouped_ops(CONTEXT) {
        if !out.is_empty() {
            out.push(DiffLine {
                tag: "fold",
                pieces: vec![Piece {
                    text: "…".into(),
                    changed: false,
                }],
            });
        }
        for op in group {
            match op {
                DiffOp::Equal { old_index, len, .. } => {
                    for l in &old_lines[old_index..old_index + len] {
                        out.push(whole("equal", l));
                    }
                }
                DiffOp::Delete {
                    old_index, old_len, ..
                } => {
                    for l in &old_lines[old_index..old_index + old_len] {
                        out.push(whole("delete", l));
                    }
                }
                DiffOp::Insert {
                    new_index, new_len, ..
                } => {
                    for l in &new_lines[new_index..new_index + new_len] {
                        out.push(whole("insert", l));
                    }
                }
                DiffOp::Replace {
                    old_index,
                    old_len,
                    new_index,
                    new_len,
                } => {
                    let olds = &old_lines[old_index..old_index + old_len];
                    let news = &new_lines[new_index..new_index + new_len];
                    let pairs = old_len.min(new_len);
                    let (mut dels, mut inss) = (Vec::new(), Vec::new());
                    for i in 0..pairs {
                        let (d, n) = paired(olds[i], news[i]);
                        dels.push(d);
                        inss.push(n);
                    }
                    dels.extend(olds[pairs..].iter().map(|l| whole("delete", l)));
                    inss.extend(news[pairs..].iter().map(|l| whole("insert", l)));
                    out.extend(dels);
                    out.extend(inss);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(title: &str, body: &str) -> ArticleFields {
        ArticleFields {
            title: title.into(),
            body: body.into(),
            category: "劳动和社会保障/社会保险".into(),
            tags: vec!["社保卡".into()],
            areas: vec!["990100".into()],
            valid_from: None,
            valid_to: None,
            source: None,
        }
    }

    #[test]
    fn a_changed_line_marks_the_changed_characters_and_far_lines_fold() {
        let mut old = String::from("第一段：先挂失。\n");
        for i in 0..10 {
            old.push_str(&format!("不变的第{i}行\n"));
        }
        old.push_str("补办需要3个工作日。\n");
        let new = old
            .replace("3个工作日", "5个工作日")
            .replace("先挂失", "先电话挂失");
        let mut b = fields("社保卡丢了怎么补办？", &new);
        b.tags.push("补办".into());
        let d = diff((1, &fields("社保卡丢了怎么办？", &old)), (2, &b));
        let names: Vec<_> = d.fields.iter().map(|f| f.field).collect();
        assert_eq!(names, ["title", "tags"]);
        assert_eq!(d.fields[1].new, "社保卡、补办");
        let changed: Vec<(&str, String)> = d
            .body
            .iter()
            .flat_map(|l| {
                l.pieces
                    .iter()
                    .filter(|p| p.changed)
                    .map(|p| (l.tag, p.text.clone()))
            })
            .collect();
        let want = [("insert", "电话"), ("delete", "3"), ("insert", "5")];
        let want: Vec<(&str, String)> = want.iter().map(|(t, s)| (*t, (*s).to_owned())).collect();
        assert_eq!(changed, want);
        assert_eq!(d.body.iter().filter(|l| l.tag == "fold").count(), 1);
        assert!(
            d.body.len() < 12,
            "unchanged lines far from a change are folded"
        );
    }
}
