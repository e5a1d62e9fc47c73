//! The self-test report as the technician reads it at the terminal.

use menpai_model::api::{SelfTestOutcome, SelfTestReport};

use crate::detect::{Assignment, Detected, Found};

/// Column width in terminal cells (a Chinese character takes two).
fn width(s: &str) -> usize {
    s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

fn pad(s: &str, cells: usize) -> String {
    format!("{s}{}", " ".repeat(cells.saturating_sub(width(s))))
}

pub fn self_test(r: &SelfTestReport) -> String {
    let mut out = format!("硬件自检  {} {}  {}\n", r.hall, r.position, r.at);
    for s in &r.steps {
        let mark = match s.outcome {
            SelfTestOutcome::Pass => "通过  ",
            SelfTestOutcome::Fail => "不通过",
            SelfTestOutcome::Skip => "跳过  ",
        };
        out.push_str(&format!("  {}  {mark}  {}\n", pad(&s.name, 10), s.detail));
    }
    let failed: Vec<&str> = r
        .steps
        .iter()
        .filter(|s| s.outcome == SelfTestOutcome::Fail)
        .map(|s| s.name.as_str())
        .collect();
    if failed.is_empty() {
        out.push_str("结果：通过\n");
    } else {
        out.push_str(&format!(
            "结果：不通过（{} 项：{}）\n",
            failed.len(),
            failed.join("、")
        ));
    }
    out
}

fn port(f: &Found) -> String {
    format!("{}  {}  {}", pad(&f.dev, 14), f.usb_id(), f.name)
}

pub fn detected(d: &Detected, a: &Assignment) -> String {
    let mut out = String::from("检测到的设备：\n");
    for (name, f) in [
        ("扫码器", &a.scanner),
        ("打印机", &a.printer),
        ("LED 屏", &a.led),
    ] {
        match f {
            Some(f) => out.push_str(&format!("  {}  {}\n", pad(name, 8), port(f))),
            None => out.push_str(&format!("  {}  未找到（保留现有设置）\n", pad(name, 8))),
        }
    }
    match &d.camera {
        Some((dev, label)) => out.push_str(&format!("  {}  {dev}  {label}\n", pad("摄像头", 8))),
        None => out.push_str(&format!("  {}  未找到\n", pad("摄像头", 8))),
    }
    out.push_str(&format!(
        "  {}  {}\n",
        pad("声卡", 8),
        if d.sound {
            "有（语音播报用 espeak-ng）"
        } else {
            "未找到"
        }
    ));
    if let Some(model) = &d.raspberry_pi {
        out.push_str(&format!("  {}  {model}（GPIO 用 rpi）\n", pad("主板", 8)));
    }
    for f in &a.unplaced {
        out.push_str(&format!("  {}  {}\n", pad("未分配", 8), port(f)));
    }
    out
}
