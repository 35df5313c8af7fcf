//! An article's life: draft → in review → published → archived, as a pure function of the state,
//! the step asked for and what the caller is to the article. No I/O: the store calls it inside
//! its transaction and writes what it decides.
//!
//! A published article that is edited keeps serving its published version while the new one
//! is a draft and under review; publishing the new version replaces it. Archiving takes the
//! article out of search; restoring makes it a draft again.

use serde::{Deserialize, Serialize};
use strum::{AsRefStr, Display, EnumIter, EnumString};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    Display,
    EnumString,
    AsRefStr,
    EnumIter,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ArticleState {
    Draft,
    InReview,
    Published,
    Archived,
}

impl ArticleState {
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Draft => "草稿",
            Self::InReview => "待审核",
            Self::Published => "已发布",
            Self::Archived => "已归档",
        }
    }
}

/// A workflow step. Editing is [`Step::Edit`]; the rest are the buttons.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    Display,
    EnumString,
    AsRefStr,
    EnumIter,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Step {
    /// A new version of the text (a new article is its first edit).
    Edit,
    /// Send the latest version to the centre's reviewers.
    Submit,
    /// Approve the version under review: agents, citizens and the search get it.
    Publish,
    /// Send the version under review back to its writers, with a note saying why.
    Reject,
    /// Take the article out of use and out of search.
    Archive,
    /// Bring an archived article back as a draft.
    Restore,
}

impl Step {
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Edit => "修改",
            Self::Submit => "提交审核",
            Self::Publish => "审核发布",
            Self::Reject => "退回修改",
            Self::Archive => "归档",
            Self::Restore => "恢复为草稿",
        }
    }
}

/// What the caller is to this article.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Duty {
    /// May write it: a unit admin of the owning unit (or above it), or a reviewer of the centre
    /// that owns it.
    pub writer: bool,
    /// May publish it: a reviewer whose centre's area covers the owning unit.
    pub reviewer: bool,
    /// Wrote the version under review (a reviewer may not approve their own text).
    pub author_of_latest: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    #[error("{0}")]
    NotAllowed(&'static str),
    #[error("an article that is {state} cannot be {step}: {why}")]
    WrongState {
        state: &'static str,
        step: &'static str,
        why: &'static str,
    },
}

/// The state after `step`, or why it may not happen.
pub fn next(state: ArticleState, step: Step, duty: Duty) -> Result<ArticleState, WorkflowError> {
    use ArticleState as S;
    let wrong = |why| WorkflowError::WrongState {
        state: state.label_zh(),
        step: step.label_zh(),
        why,
    };
    match step {
        Step::Edit | Step::Submit | Step::Restore if !duty.writer => Err(
            WorkflowError::NotAllowed("only the owning unit's administrators write its articles"),
        ),
        Step::Publish | Step::Reject if !duty.reviewer => Err(WorkflowError::NotAllowed(
            "only the centre's knowledge reviewers publish articles",
        )),
        Step::Archive if !(duty.writer || duty.reviewer) => Err(WorkflowError::NotAllowed(
            "only the article's writers and reviewers archive it",
        )),
        Step::Edit => match state {
            // Editing under review withdraws it: the reviewer should not approve a moving text.
            S::Draft | S::InReview | S::Published => Ok(S::Draft),
            S::Archived => Err(wrong("restore it first")),
        },
        Step::Submit => match state {
            S::Draft => Ok(S::InReview),
            _ => Err(wrong("only a draft is sent for review")),
        },
        Step::Publish if duty.author_of_latest => Err(WorkflowError::NotAllowed(
            "another reviewer must approve a text you wrote",
        )),
        Step::Publish | Step::Reject => match state {
            S::InReview => Ok(if step == Step::Publish {
                S::Published
            } else {
                S::Draft
            }),
            _ => Err(wrong("only an article in review is approved or sent back")),
        },
        Step::Archive => match state {
            S::Archived => Err(wrong("it is archived already")),
            _ => Ok(S::Archived),
        },
        Step::Restore => match state {
            S::Archived => Ok(S::Draft),
            _ => Err(wrong("only an archived article is restored")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::IntoEnumIterator;

    const WRITER: Duty = Duty {
        writer: true,
        reviewer: false,
        author_of_latest: false,
    };
    const REVIEWER: Duty = Duty {
        writer: false,
        reviewer: true,
        author_of_latest: false,
    };
    const NOBODY: Duty = Duty {
        writer: false,
        reviewer: false,
        author_of_latest: false,
    };

    #[test]
    fn the_closed_loop_of_an_article() {
        use ArticleState as S;
        let s = next(S::Draft, Step::Submit, WRITER).unwrap();
        assert_eq!(s, S::InReview);
        assert_eq!(next(s, Step::Reject, REVIEWER).unwrap(), S::Draft);
        assert_eq!(next(s, Step::Publish, REVIEWER).unwrap(), S::Published);
        assert_eq!(next(S::Published, Step::Edit, WRITER).unwrap(), S::Draft);
        assert_eq!(
            next(S::Published, Step::Archive, REVIEWER).unwrap(),
            S::Archived
        );
        assert_eq!(next(S::Archived, Step::Restore, WRITER).unwrap(), S::Draft);
    }

    #[test]
    fn writers_do_not_publish_and_reviewers_do_not_write() {
        use ArticleState as S;
        assert!(matches!(
            next(S::InReview, Step::Publish, WRITER),
            Err(WorkflowError::NotAllowed(_))
        ));
        assert!(matches!(
            next(S::Draft, Step::Edit, REVIEWER),
            Err(WorkflowError::NotAllowed(_))
        ));
        let own = Duty {
            writer: true,
            reviewer: true,
            author_of_latest: true,
        };
        assert!(next(S::InReview, Step::Publish, own).is_err());
        assert!(next(S::InReview, Step::Reject, own).is_ok());
    }

    #[test]
    fn nobody_moves_anything_and_every_state_answers_every_step() {
        for state in ArticleState::iter() {
            for step in Step::iter() {
                assert!(next(state, step, NOBODY).is_err(), "{state} {step}");
                let both = Duty {
                    writer: true,
                    reviewer: true,
                    author_of_latest: false,
                };
                // Never a panic; an archived article only comes back by a restore.
                if let Ok(to) = next(state, step, both)
                    && state == ArticleState::Archived
                {
                    assert_eq!((step, to), (Step::Restore, ArticleState::Draft));
                }
            }
        }
    }
}
