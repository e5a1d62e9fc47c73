//! Coordinates: WGS-84 points, great-circle distance, and the GCJ-02 offset Chinese map apps need.

use serde::{Deserialize, Serialize};

/// A WGS-84 position in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    pub lat: f64,
    pub lon: f64,
}

impl GeoPoint {
    pub fn new(lat: f64, lon: f64) -> Self {
        GeoPoint { lat, lon }
    }

    /// True when the point is a valid latitude/longitude pair.
    pub fn is_valid(&self) -> bool {
        self.lat.is_finite()
            && self.lon.is_finite()
            && (-90.0..=90.0).contains(&self.lat)
            && (-180.0..=180.0).contains(&self.lon)
    }

    /// Great-circle distance in metres (haversine).
    pub fn distance_m(&self, other: &GeoPoint) -> f64 {
        const EARTH_RADIUS_M: f64 = 6_371_008.8;
        let (p1, p2) = (self.lat.to_radians(), other.lat.to_radians());
        let dp = p2 - p1;
        let dl = (other.lon - self.lon).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * a.sqrt().asin()
    }

    /// The GCJ-02 ("Mars") coordinates Amap and Tencent maps expect inside mainland China.
    pub fn to_gcj02(&self) -> GeoPoint {
        if !in_mainland_china(self) {
            return *self;
        }
        const A: f64 = 6_378_245.0;
        const EE: f64 = 0.006_693_421_622_965_943;
        let (x, y) = (self.lon - 105.0, self.lat - 35.0);
        let mut dlat = transform_lat(x, y);
        let mut dlon = transform_lon(x, y);
        let rad = self.lat.to_radians();
        let magic = 1.0 - EE * rad.sin().powi(2);
        let sqrt_magic = magic.sqrt();
        dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * std::f64::consts::PI);
        dlon = (dlon * 180.0) / (A / sqrt_magic * rad.cos() * std::f64::consts::PI);
        GeoPoint::new(self.lat + dlat, self.lon + dlon)
    }
}

fn in_mainland_china(p: &GeoPoint) -> bool {
    (72.004..=137.8347).contains(&p.lon) && (0.8293..=55.8271).contains(&p.lat)
}

fn transform_lat(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

fn transform_lon(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_between_two_shenzhen_points_is_plausible() {
        // 福田区政府 to 深圳市民中心, about 1.6 km apart.
        let a = GeoPoint::new(22.5218, 114.0551);
        let b = GeoPoint::new(22.5430, 114.0596);
        let d = a.distance_m(&b);
        assert!((2_000.0..2_600.0).contains(&d), "distance {d}");
    }

    #[test]
    fn gcj02_offset_is_a_few_hundred_metres_in_china_and_none_abroad() {
        let p = GeoPoint::new(22.5430, 114.0596);
        let shift = p.distance_m(&p.to_gcj02());
        assert!((200.0..700.0).contains(&shift), "shift {shift}");
        let paris = GeoPoint::new(48.8566, 2.3522);
        assert_eq!(paris.to_gcj02(), paris);
    }
}
