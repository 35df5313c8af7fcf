//! The small base both engines' tests search: six answers, their synonyms.

use std::sync::Arc;

use chrono::NaiveDate;
use hotline_knowledge::analyze::{Analyzer, parse_synonyms};
use hotline_knowledge::engine::SearchDoc;

pub fn doc(
    id: &str,
    title: &str,
    body: &str,
    tags: &[&str],
    category: &str,
    areas: &[&str],
) -> SearchDoc {
    SearchDoc {
        id: id.into(),
        title: title.into(),
        body: body.into(),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        category: category.into(),
        areas: areas.iter().map(|t| (*t).to_owned()).collect(),
        valid_from: None,
        valid_to: None,
    }
}

pub fn base() -> Vec<SearchDoc> {
    let mut expiring = doc(
        "heating-subsidy-2026",
        "2026年冬季供暖补贴怎么申请？",
        "低保家庭可在12月31日前向社区申请本年度供暖补贴。",
        &["供暖补贴", "低保"],
        "民政/社会救助",
        &["990100"],
    );
    expiring.valid_from = NaiveDate::from_ymd_opt(2026, 11, 1);
    expiring.valid_to = NaiveDate::from_ymd_opt(2026, 12, 31);
    vec![
        doc(
            "gjj-rent",
            "租房可以提取住房公积金吗？",
            "在本市无自有住房且租房居住的职工，可按月提取住房公积金支付房租，每月提取额度不超过本市规定的限额。",
            &["公积金", "租房提取"],
            "城乡建设/住房保障与房地产",
            &["990100"],
        ),
        doc(
            "sbk-lost",
            "社保卡丢了怎么挂失补办？",
            "社会保障卡丢失后，先拨打12333或在掌上办理app挂失，再携带身份证到合作银行网点补办。",
            &["社保卡", "挂失", "补办"],
            "劳动和社会保障/社会保险",
            &["990100"],
        ),
        doc(
            "wage-arrears",
            "单位拖欠工资怎么投诉？",
            "用人单位拖欠工资的，劳动者可向劳动保障监察机构投诉，或申请劳动仲裁。",
            &["拖欠工资", "劳动保障监察"],
            "劳动和社会保障/劳动保障",
            &["990100"],
        ),
        doc(
            "streetlight-a2",
            "A2区路灯故障怎么报修？",
            "A2区的路灯由区城市管理局维护，报修后一般在两个工作日内修复。",
            &["路灯故障", "报修"],
            "城乡建设/城市建设和市政管理",
            &["990103"],
        ),
        doc(
            "noise-night-construction",
            "夜间施工噪声扰民怎么办？",
            "22时至次日6时禁止产生噪声的建筑施工作业，抢修抢险和经批准的连续作业除外。",
            &["夜间施工", "噪声"],
            "环境保护/噪音污染",
            &["990100"],
        ),
        expiring,
    ]
}

pub fn analyzer() -> Arc<Analyzer> {
    let synonyms = parse_synonyms(
        "拖欠工资,欠薪,不发工资,老板不给钱\n路灯故障,路灯不亮,路灯坏了\n噪声,噪音\n社会保险,社保\n",
    )
    .unwrap();
    Arc::new(Analyzer::new(synonyms, &[]))
}
