//! Distance and an estimated round-trip time between a user and a site.
//!
//! The estimate: light in fibre covers about 200 km per millisecond, a
//! round trip doubles the distance, and real routes run about 1.5 times
//! the great-circle distance: RTT ≈ distance_km × 0.015 ms. Telemetry's
//! measured user-to-site latencies can replace it later.

const EARTH_RADIUS_KM: f64 = 6371.0;

/// Great-circle distance in km (haversine).
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, lo1) = (a.0.to_radians(), a.1.to_radians());
    let (la2, lo2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((la2 - la1) / 2.0).sin().powi(2)
        + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().asin()
}

/// Estimated round-trip time in ms.
pub fn rtt_ms(a: (f64, f64), b: (f64, f64)) -> f64 {
    distance_km(a, b) * 0.015
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_distances() {
        // Paris to London is about 344 km.
        let d = distance_km((48.8566, 2.3522), (51.5074, -0.1278));
        assert!((d - 344.0).abs() < 5.0, "{d}");
        assert_eq!(distance_km((10.0, 10.0), (10.0, 10.0)), 0.0);
        // A quarter of the equator.
        let q = distance_km((0.0, 0.0), (0.0, 90.0));
        assert!((q - 10007.5).abs() < 1.0, "{q}");
        assert!((rtt_ms((0.0, 0.0), (0.0, 90.0)) - 150.1).abs() < 0.5);
    }
}
