//! The words of the seeded tickets: real appeals and replies shipped with the demo
//! (`demo/appeals/*.csv`), with district names swapped to where the ticket is, and the short
//! notes staff write at each step of the loop.

use std::collections::HashMap;

use anyhow::Context;
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;

use crate::demo::{HOT_CSV, MESSAGES_CSV, PLACES_CSV, REPLIES_CSV};

/// One real appeal.
#[derive(Debug, Clone)]
pub struct Message {
    pub title: String,
    pub detail: String,
    /// What an agent types while on the phone: the first sentences.
    pub summary: String,
    /// The first-level category the shared data gives it (名称, e.g. 城乡建设).
    pub category: Option<String>,
}

pub struct Vocab {
    pub messages: Vec<Message>,
    /// The hot topics of the shared data: the matters of the bursts.
    pub hot: Vec<Message>,
    pub replies: Vec<String>,
    /// Roads, estates and landmarks by the code of the unit they lie in.
    pub places: HashMap<String, Vec<String>>,
}

/// Drops control characters the text types refuse (the shared data has a few stray ones) and cuts
/// to `max` characters.
fn clean(s: &str, max: usize) -> String {
    s.trim()
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .take(max)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// The first sentences of `detail`, about what fits on an agent's form.
fn summary(detail: &str) -> String {
    let mut out = String::new();
    for sentence in detail.split_inclusive(['。', '！', '？', '!', '?']) {
        if !out.is_empty() && out.chars().count() + sentence.chars().count() > 150 {
            break;
        }
        out.push_str(sentence);
        if out.chars().count() >= 60 {
            break;
        }
    }
    clean(&out, 150)
}

fn rows(text: &str, columns: &[&str]) -> anyhow::Result<Vec<Vec<Option<String>>>> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let headers = r.headers()?.clone();
    let at: Vec<Option<usize>> = columns
        .iter()
        .map(|c| headers.iter().position(|h| h == *c))
        .collect();
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec?;
        out.push(
            at.iter()
                .map(|i| {
                    i.and_then(|i| rec.get(i))
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                })
                .collect(),
        );
    }
    Ok(out)
}

fn messages(text: &str) -> anyhow::Result<Vec<Message>> {
    Ok(rows(text, &["title", "detail", "category"])?
        .into_iter()
        .filter_map(|r| {
            let title = clean(r[0].as_deref()?, 200);
            let detail = clean(r[1].as_deref()?, 10_000);
            (!title.is_empty() && !detail.is_empty()).then(|| Message {
                summary: summary(&detail),
                title,
                detail,
                category: r[2].clone(),
            })
        })
        .filter(|m| !m.summary.is_empty())
        .collect())
}

impl Vocab {
    pub fn load() -> anyhow::Result<Self> {
        let mut all = messages(MESSAGES_CSV).context("demo/appeals/messages.csv")?;
        all.extend(messages(REPLIES_CSV).context("demo/appeals/replies.csv")?);
        anyhow::ensure!(!all.is_empty(), "the demo appeals are empty");
        let mut hot = messages(HOT_CSV).context("demo/appeals/hot_messages.csv")?;
        if hot.is_empty() {
            hot = all.clone();
        }
        let replies: Vec<String> = rows(REPLIES_CSV, &["reply"])?
            .into_iter()
            .filter_map(|r| r[0].as_deref().map(|s| clean(s, 5_000)))
            .filter(|s| !s.is_empty())
            .collect();
        let mut places: HashMap<String, Vec<String>> = HashMap::new();
        for r in rows(PLACES_CSV, &["name", "unit_code"])? {
            if let (Some(name), Some(code)) = (&r[0], &r[1]) {
                places
                    .entry(code.clone())
                    .or_default()
                    .push(clean(name, 50));
            }
        }
        Ok(Self {
            messages: all,
            hot,
            replies,
            places,
        })
    }
}

/// `text` with every district name of `all` replaced by `to`, so an appeal reads as coming from
/// where it was placed.
pub fn localize(text: &str, all: &[String], to: &str) -> String {
    let mut out = text.to_owned();
    for name in all.iter().filter(|n| n.as_str() != to) {
        if out.contains(name.as_str()) {
            out = out.replace(name.as_str(), to);
        }
    }
    out
}

fn pick<'a>(rng: &mut StdRng, options: &'a [&'a str]) -> &'a str {
    options.choose(rng).copied().unwrap_or_default()
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "邓", "冯", "韩", "曹",
];

/// A caller's name as agents note it (王先生, 李女士).
pub fn citizen_name(rng: &mut StdRng) -> String {
    let title = if rng.random_bool(0.5) {
        "先生"
    } else {
        "女士"
    };
    format!("{}{title}", pick(rng, SURNAMES))
}

/// Mobile prefixes in use in China (the number passes `PhoneNumber::parse`).
const PREFIXES: &[u32] = &[
    130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 147, 150, 151, 152, 153, 155, 156, 157, 158,
    159, 166, 173, 175, 176, 177, 178, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 191, 193,
    195, 198, 199,
];

pub fn mobile(rng: &mut StdRng) -> String {
    let prefix = PREFIXES.choose(rng).copied().unwrap_or(138);
    format!("{prefix}{:08}", rng.random_range(0..100_000_000u32))
}

const ACTIONS: &[&str] = &[
    "已责成相关责任单位立即整改，目前问题已得到解决",
    "已联系相关企业协商处理，对方承诺于一周内整改到位",
    "已将该问题纳入近期工作计划，将按程序加快推进",
    "经核实情况属实，已依法依规作出处理",
    "已向您详细解释相关政策规定，并告知具体办理渠道",
    "已组织执法人员现场检查，责令当事人限期整改",
    "已协调属地社区和物业公司共同处理，后续将持续跟踪",
];

/// The unit's answer: one of the real replies, or a reply in the usual form about this matter.
pub fn reply(v: &Vocab, rng: &mut StdRng, title: &str, unit: &str) -> String {
    if rng.random_bool(0.4)
        && let Some(r) = v.replies.choose(rng)
    {
        return r.clone();
    }
    let title: String = title.chars().take(60).collect();
    format!(
        "您好！您反映的“{title}”问题，{unit}已收悉。经调查核实，{}。感谢您对我们工作的理解与支持。",
        pick(rng, ACTIONS)
    )
}

pub fn answer(rng: &mut StdRng) -> &'static str {
    const A: &[&str] = &[
        "已根据知识库政策口径向市民当场解答，市民表示清楚。",
        "已告知市民办理流程、所需材料及咨询电话，市民表示满意。",
        "已向市民解释相关政策规定，市民表示理解。",
        "已告知市民可通过政务服务网在线办理，并说明了办理时限。",
    ];
    A.choose(rng).copied().unwrap_or(A[0])
}

pub const PRAISE_ANSWER: &str = "已记录市民的表扬意见，并转达相关单位。";
pub const WITHDRAW: &str = "市民来电表示问题已自行解决，申请撤回诉求。";
pub const DISPATCH_NOTE: &str = "请按时限办理并及时答复市民。";
pub const PASS_DOWN_NOTE: &str = "请属地核实处理并按时反馈办理结果。";
pub const REDISPATCH: &str = "退单理由成立，改派相关单位办理。";
pub const SEND_BACK: &str = "经审核，该事项属于你单位职责范围，退单理由不成立，请继续办理。";
pub const EXTENSION_APPROVED: &str = "同意延期，请在延期时限内办结。";
pub const EXTENSION_DENIED: &str = "延期理由不充分，请在原时限内办结。";
pub const SUPERVISE: &str = "该诉求反映问题较为突出，请加快办理进度并及时反馈。";
pub const REDO: &str = "市民对办理结果不满意，要求重新办理。";
pub const VISIT_MISSED: &str = "回访电话多次未接通。";
pub const CLOSE_MISSED: &str = "多次回访未接通，按规定予以办结。";
pub const CLOSE_UNSATISFIED: &str = "经回访市民仍不满意，已向市民解释相关政策，按规定予以办结。";

pub fn return_reason(rng: &mut StdRng) -> &'static str {
    const R: &[&str] = &[
        "经核实，该事项不属于本单位职责范围，建议转交相关职能部门办理。",
        "诉求地址不在本辖区范围内，请重新派单。",
        "该事项属于行业主管部门职责，建议改派。",
    ];
    R.choose(rng).copied().unwrap_or(R[0])
}

pub fn suspend_reason(rng: &mut StdRng) -> &'static str {
    const R: &[&str] = &[
        "诉求人提供的地址信息不全，已联系诉求人补充，暂停计时。",
        "需诉求人补充相关证明材料，暂停计时。",
        "诉求人暂时无法配合现场核查，待其返回后继续办理。",
    ];
    R.choose(rng).copied().unwrap_or(R[0])
}

pub fn extension_reason(rng: &mut StdRng) -> &'static str {
    const R: &[&str] = &[
        "涉及多个部门协调，需现场勘查，申请延期办理。",
        "需委托第三方检测，结果出具需要时间，申请延期。",
        "整改工程量较大，需协调施工单位，申请延期办理。",
    ];
    R.choose(rng).copied().unwrap_or(R[0])
}

/// What the agent notes after reaching the citizen.
pub fn visit_note(label: &str) -> String {
    format!("已电话回访市民，市民对办理结果表示{label}。")
}

pub fn close_resolution(label: &str) -> String {
    format!("经回访，市民对办理结果表示{label}，诉求已办理完毕，予以办结。")
}
