//! What 听指南 says for a guide: the item, who may apply, where to go, and what to bring —
//! short sentences a citizen can follow by ear.

use menpai_model::api::{Guide, GuideWindow};

/// Conditions said aloud at most; the rest are on the screen.
const CONDITIONS: usize = 2;
/// Materials named aloud at most.
const MATERIALS: usize = 6;

/// The guide's summary as read aloud.
pub fn guide_summary(guide: &Guide) -> String {
    let item = &guide.item;
    let mut said = vec![format!("{}。", item.name)];
    let conditions: Vec<&str> = item
        .conditions
        .iter()
        .take(CONDITIONS)
        .map(|c| c.trim_end_matches(['。', '；', ';']))
        .collect();
    if !conditions.is_empty() {
        said.push(format!("谁可以办：{}。", conditions.join("；")));
    }
    if let Some(hall) = guide.halls.iter().find(|h| h.here).or(guide.halls.first()) {
        let windows = windows_said(&hall.windows);
        let place = if hall.here {
            "本大厅"
        } else {
            hall.name.as_str()
        };
        said.push(match windows.is_empty() {
            true => format!("在哪里办：{place}。"),
            false => format!("在哪里办：{place}{}。", windows.join("、")),
        });
    } else if item.visits == 0 {
        said.push("在哪里办：网上就能办，不用跑大厅。".into());
    }
    let required: Vec<&str> = item
        .materials
        .iter()
        .filter(|m| m.required)
        .map(|m| m.name.as_str())
        .collect();
    if !required.is_empty() {
        let named: Vec<&str> = required.iter().take(MATERIALS).copied().collect();
        let more = match required.len() > MATERIALS {
            true => format!("等{}样", required.len()),
            false => String::new(),
        };
        said.push(format!("要带的材料：{}{more}。", named.join("、")));
    }
    if !item.situations.is_empty() {
        said.push("其他材料要看您的情况，请点材料清单选一选。".into());
    }
    if !guide.promised.is_empty() {
        said.push(format!("办理时间：{}。", guide.promised));
    }
    said.concat()
}

/// Windows grouped by zone, runs of numbers said as a span: 公积金服务区17至20号窗口.
fn windows_said(windows: &[GuideWindow]) -> Vec<String> {
    let mut zones: Vec<(&str, Vec<u32>)> = Vec::new();
    for w in windows {
        let zone = w.zone.as_deref().unwrap_or("");
        match zones.iter_mut().find(|(z, _)| *z == zone) {
            Some((_, numbers)) => numbers.push(w.number),
            None => zones.push((zone, vec![w.number])),
        }
    }
    zones
        .into_iter()
        .map(|(zone, mut numbers)| {
            numbers.sort_unstable();
            numbers.dedup();
            let mut spans: Vec<String> = Vec::new();
            let mut i = 0;
            while i < numbers.len() {
                let mut j = i;
                while j + 1 < numbers.len() && numbers[j + 1] == numbers[j] + 1 {
                    j += 1;
                }
                spans.push(match j - i {
                    0 => numbers[i].to_string(),
                    1 => format!("{}、{}", numbers[i], numbers[j]),
                    _ => format!("{}至{}", numbers[i], numbers[j]),
                });
                i = j + 1;
            }
            format!("{zone}{}号窗口", spans.join("、"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(number: u32, zone: &str) -> GuideWindow {
        GuideWindow {
            number,
            label: String::new(),
            zone: (!zone.is_empty()).then(|| zone.to_owned()),
        }
    }

    #[test]
    fn windows_are_said_by_zone_with_runs_as_spans() {
        let w = [
            window(18, "公积金区"),
            window(17, "公积金区"),
            window(19, "公积金区"),
            window(20, "公积金区"),
            window(3, "综合区"),
            window(5, "综合区"),
            window(6, "综合区"),
        ];
        assert_eq!(
            windows_said(&w),
            ["公积金区17至20号窗口", "综合区3、5、6号窗口"]
        );
    }
}
