//! The camera decode path on generated hard frames and on files through the `decode-qr` command.

#[path = "../benches/frames/mod.rs"]
mod frames;

use menpai_drivers::qr;

#[test]
fn clean_rotated_noisy_glared_and_low_contrast_frames_decode() {
    let mut rng = frames::Rng::new(11);
    for kind in [
        "clean",
        "rotation",
        "perspective",
        "noise",
        "low_contrast",
        "glare",
    ] {
        for i in 0..3 {
            let f = frames::frame(kind, &mut rng, i);
            assert_eq!(qr::decode(&f.image), vec![f.payload.clone()], "{kind} #{i}");
        }
    }
}

#[test]
fn a_frame_without_a_code_decodes_to_nothing() {
    let blank = image::GrayImage::from_pixel(640, 480, image::Luma([180]));
    assert!(qr::decode(&blank).is_empty());
}

#[test]
fn decode_qr_prints_payloads_of_image_files_and_fails_on_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = frames::Rng::new(5);
    let f = frames::frame("rotation", &mut rng, 0);
    let good = dir.path().join("good.png");
    f.image.save(&good).unwrap();
    let bad = dir.path().join("bad.png");
    std::fs::write(&bad, b"not a png").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_decode-qr"))
        .arg(&good)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("{}: {}", good.display(), f.payload)
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_decode-qr"))
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.png"));
}
