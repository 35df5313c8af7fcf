//! What an error means, said in Chinese for the pages. The API speaks English to programs; staff
//! read these. Unknown reasons fall back to a generic sentence with the original text beside it,
//! so nothing is hidden.

use crate::error::{ApiError, ErrorCode};
use crate::ticket::{ActionKind, Status};

/// The heading of an error page.
pub fn heading(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::MalformedBody | ErrorCode::UnsupportedMediaType => "提交的内容无法识别",
        ErrorCode::InvalidField => "填写的内容有误",
        ErrorCode::PayloadTooLarge => "提交的内容过长",
        ErrorCode::Unauthenticated => "请先登录",
        ErrorCode::Forbidden => "没有权限",
        ErrorCode::CsrfRejected => "页面已过期",
        ErrorCode::AccountLocked => "账号已锁定",
        ErrorCode::NotFound => "页面不存在",
        ErrorCode::InvalidTransition => "当前不能进行此操作",
        ErrorCode::VersionConflict => "工单已被他人更新",
        ErrorCode::Claimed => "工单已被他人认领",
        ErrorCode::AlreadyExists => "记录已存在",
        ErrorCode::TooManyRequests => "操作过于频繁",
        ErrorCode::Unavailable => "服务暂时不可用",
        ErrorCode::Internal => "系统出错了",
    }
}

/// The full sentence a page shows for an error.
pub fn message(e: &ApiError) -> String {
    match e.code {
        ErrorCode::MalformedBody => "提交的内容格式不正确，请刷新页面后重新填写。".into(),
        ErrorCode::UnsupportedMediaType => "请通过页面上的表单提交。".into(),
        ErrorCode::InvalidField => match e.field.as_deref() {
            Some(f) => format!("{}：{}", field_label(f), reason(&e.message)),
            None => reason(&e.message),
        },
        ErrorCode::PayloadTooLarge => "提交的内容超过了允许的长度，请精简后重试。".into(),
        ErrorCode::Unauthenticated => "登录已失效，请重新登录。".into(),
        ErrorCode::Forbidden => match translate(&e.message) {
            Some(why) => format!("您没有权限进行此操作：{why}。"),
            None => "您的角色没有权限访问此页面或进行此操作。".into(),
        },
        ErrorCode::CsrfRejected => "表单已过期或来源无法验证，请刷新页面后重试。".into(),
        ErrorCode::AccountLocked => "登录失败次数过多，账号已临时锁定，请稍后再试。".into(),
        ErrorCode::NotFound => "您要找的页面或工单不存在，或不在您的办理范围内。".into(),
        ErrorCode::InvalidTransition => transition(e),
        ErrorCode::VersionConflict => "工单已被他人更新，请刷新后重试。".into(),
        ErrorCode::Claimed => match e
            .details
            .as_ref()
            .and_then(|d| d["claimed_by"]["display_name"].as_str())
        {
            Some(name) => format!("工单已由{name}认领办理，请联系对方或班长后再操作。"),
            None => "工单已由他人认领办理，请联系对方或班长后再操作。".into(),
        },
        ErrorCode::AlreadyExists => "该记录已存在。".into(),
        ErrorCode::TooManyRequests => "操作过于频繁，请稍后再试。".into(),
        ErrorCode::Unavailable => "服务暂时不可用，请稍后再试。".into(),
        ErrorCode::Internal => "系统内部错误，请稍后再试；如仍有问题请联系系统管理员。".into(),
    }
}

fn transition(e: &ApiError) -> String {
    let details = e.details.as_ref();
    let text = |k: &str| {
        details
            .and_then(|d| d.get(k))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let status = text("status").and_then(|s| s.parse::<Status>().ok());
    let action = text("action").and_then(|s| s.parse::<ActionKind>().ok());
    let mut out = match (status, action) {
        (Some(s), Some(a)) => format!("工单当前状态为“{}”，不能{}", s.label_zh(), a.label_zh()),
        _ => "工单当前状态不允许此操作".to_owned(),
    };
    if let Some(why) = translate(&e.message) {
        out.push('：');
        out.push_str(&why);
    }
    out.push_str("。请刷新页面查看最新状态。");
    out
}

/// The Chinese name of a form or API field.
pub fn field_label(field: &str) -> &str {
    match field.split(['.', '[']).next().unwrap_or(field) {
        "title" => "标题",
        "detail" => "诉求内容",
        "address" => "地址",
        "citizen_name" => "来电人姓名",
        "citizen_phone" => "联系电话",
        "appeal_type" => "诉求类型",
        "urgency" => "紧急程度",
        "channel" => "受理渠道",
        "category_id" => "诉求分类",
        "status" => "状态",
        "from" => "受理日期（起）",
        "to" => "受理日期（止）",
        "overdue" => "超期",
        "supervised" => "督办",
        "number" => "工单编号",
        "cursor" => "翻页",
        "limit" => "每页条数",
        "unit_id" | "main_unit_id" => "主办单位",
        "co_unit_ids" => "协办单位",
        "to_unit_id" => "下派单位",
        "note" => "备注",
        "reason" => "理由",
        "ruling" => "审定意见",
        "decision" => "审定结果",
        "days" => "延期天数",
        "reply" => "答复内容",
        "answer" => "答复内容",
        "reached" => "是否联系上",
        "rating" => "满意度",
        "comment" => "评价意见",
        "target_id" | "target_number" => "合并到的工单",
        "resolution" => "办结情况",
        "expected_version" => "工单版本",
        "username" => "用户名",
        "password" => "密码",
        "latitude" | "longitude" => "坐标",
        "kind" => "规则类型",
        "area_unit_id" => "属地",
        "keywords" => "关键词",
        "target" => "派往",
        "priority" => "优先级",
        "position" => "顺序",
        "active" => "启用",
        "ticket_id" => "工单",
        other => other,
    }
}

/// A field's refusal in Chinese.
pub fn reason(message: &str) -> String {
    translate(message).unwrap_or_else(|| format!("填写有误（{message}）"))
}

/// Known phrases of the domain's English refusals, most specific first.
const PHRASES: &[(&str, &str)] = &[
    ("must not be empty", "不能为空"),
    ("missing field", "必须填写"),
    ("must not contain control characters", "不能包含控制字符"),
    (
        "must be a mobile number",
        "请填写11位手机号码或带区号的固定电话",
    ),
    (
        "must contain only digits",
        "只能包含数字、空格、“-”、括号或开头的“+”",
    ),
    ("no such unit", "单位不存在"),
    ("the unit is inactive", "该单位已停用"),
    ("no such category", "分类不存在"),
    ("no such ticket", "找不到该工单，或不在您的办理范围内"),
    ("cannot be merged into itself", "不能合并到工单本身"),
    ("the target ticket is", "目标工单已结束，不能再合并"),
    (
        "not to a 12345 centre",
        "工单应派给承办单位，不能派给12345中心",
    ),
    (
        "not a 12345 centre",
        "工单应下派给承办单位，不能下派给12345中心",
    ),
    ("outside this centre's area", "该单位不在本中心辖区内"),
    (
        "co-handling units must differ",
        "协办单位不能重复，也不能与主办单位相同",
    ),
    ("co-handling units", "协办单位最多10个"),
    (
        "passed down only to a unit below",
        "只能下派给本单位的下级单位",
    ),
    ("has no extension", "此类诉求不能延期"),
    ("working days requested", "延期天数须在1天至申请天数之间"),
    ("working days", "延期天数超出允许范围"),
    ("required to re-dispatch", "重新派单时必须选择主办单位"),
    ("must be a date", "日期格式应为“年-月-日”，如 2026-03-01"),
    ("not a valid date", "日期无效"),
    ("unknown status", "状态无效"),
    ("not a cursor", "翻页参数无效，请从第一页重新查询"),
    ("must be 1 to 200", "须为1至200"),
    ("unknown variant", "选项无效"),
    ("unknown field", "不是本表单的字段"),
    ("invalid digit", "须为数字"),
    ("invalid type", "格式不正确"),
    ("invalid value", "格式不正确"),
    ("invalid length", "格式不正确"),
    ("invalid character", "格式不正确"),
    ("provided string was not", "须为“是”或“否”"),
    ("the return window has closed", "已超过退单时限"),
    ("one extension request", "每张工单只能申请一次延期"),
    ("no extension request is pending", "没有待审批的延期申请"),
    ("already rated", "工单已评价"),
    ("redo follows", "只有评价为不满意的工单才能重办"),
    ("before the deadline", "延期须在办理时限届满前申请"),
    (
        "registered by staff of a 12345 centre",
        "诉求只能由12345中心工作人员登记",
    ),
    (
        "only hotline agents and dispatchers",
        "诉求只能由话务员或派单员登记",
    ),
    ("the hotline centre's action", "这是12345中心的操作"),
    ("the dispatcher's decision", "须由派单员（班长）决定"),
    ("supervision is for", "督办由派单员或领导发起"),
    (
        "only the handling unit or a dispatcher may resume",
        "只有主办单位或派单员可以恢复办理",
    ),
    (
        "only staff of the unit handling",
        "只有主办单位的工作人员可以办理",
    ),
    ("only staff may", "只有工作人员可以办理"),
    (
        "page forms are for browsers",
        "请在浏览器中登录后通过页面提交",
    ),
    // Routing rules (dispatch).
    ("a category rule needs a category", "按分类的规则须选择分类"),
    ("an area rule needs an area", "按属地的规则须选择属地"),
    (
        "only category rules have a category",
        "只有按分类的规则可以选择分类",
    ),
    ("a keyword rule needs", "按关键词的规则须填写1至20个关键词"),
    (
        "only keyword rules have keywords",
        "只有按关键词的规则可以填写关键词",
    ),
    ("at most 20 words", "关键词最多20个"),
    ("1 to 20 characters", "每个关键词1至20个字"),
    ("listed twice", "不能重复填写"),
    ("the unit to send to", "须选择派往的单位"),
    ("a district target sends", "派往属地区县时不能另选单位"),
    ("0 to 100000", "须为0至100000"),
    ("0 to 1000", "须为0至1000"),
    ("at most 200 characters", "不能超过200个字"),
    ("outside the units you may route to", "不在您可派单的范围内"),
    ("the rule routes outside", "该规则派往您派单范围以外的单位"),
    (
        "an area is a local government",
        "属地须为市、区县、镇街或村居",
    ),
    ("a 12345 centre handles no tickets", "12345中心不承办工单"),
    (
        "give a ticket_id or",
        "请给出工单，或给出诉求文字，二者选一",
    ),
];

fn translate(message: &str) -> Option<String> {
    if let Some(rest) = message.split("must be at most ").nth(1) {
        let max: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if !max.is_empty() {
            return Some(format!("不能超过{max}个字"));
        }
    }
    PHRASES
        .iter()
        .find(|(needle, _)| message.contains(needle))
        .map(|(_, zh)| (*zh).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_read_in_chinese() {
        let e = ApiError::invalid("title", "must be at most 200 characters (got 201)");
        assert_eq!(message(&e), "标题：不能超过200个字");
        let e = ApiError::invalid("citizen_phone", "must be a mobile number (11 digits …)");
        assert_eq!(
            message(&e),
            "联系电话：请填写11位手机号码或带区号的固定电话"
        );
        let e = ApiError::invalid("x", "something new");
        assert_eq!(message(&e), "x：填写有误（something new）");
    }

    #[test]
    fn conflicts_and_transitions() {
        let e = ApiError::new(ErrorCode::VersionConflict, "changed");
        assert_eq!(message(&e), "工单已被他人更新，请刷新后重试。");
        let e = ApiError::new(ErrorCode::InvalidTransition, "cannot dispatch")
            .with_details(serde_json::json!({"status": "handling", "action": "dispatch"}));
        assert!(
            message(&e).starts_with("工单当前状态为“办理中”，不能派单"),
            "{}",
            message(&e)
        );
    }
}
