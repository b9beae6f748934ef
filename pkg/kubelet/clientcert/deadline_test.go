package clientcert

import (
	"testing"
	"time"
)

func TestRotationDeadlineFallsBetween70And90PercentOfTheLifetime(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	year := 365 * 24 * time.Hour
	for _, tc := range []struct {
		name      string
		notBefore time.Time
		notAfter  time.Time
		jitter    float64
		want      time.Time
	}{
		{"no jitter renews after 70% of a year", start, start.Add(year), 0, start.Add(year * 7 / 10)},
		{"half the jitter renews after 80% of a year", start, start.Add(year), 0.5, start.Add(year * 8 / 10)},
		{"the most jitter renews after 90% of a year", start, start.Add(year), 1, start.Add(year * 9 / 10)},
		{"a ten second certificate is renewed after seven seconds", start, start.Add(10 * time.Second), 0, start.Add(7 * time.Second)},
		{"a jitter out of range is clamped to the most", start, start.Add(100 * time.Second), 7, start.Add(90 * time.Second)},
		{"a negative jitter is clamped to none", start, start.Add(100 * time.Second), -1, start.Add(70 * time.Second)},
		{"a certificate that ends before it starts is renewed at once", start, start.Add(-time.Hour), 0.5, start},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := RotationDeadline(tc.notBefore, tc.notAfter, tc.jitter); !got.Equal(tc.want) {
				t.Fatalf("deadline %s, want %s", got, tc.want)
			}
		})
	}
}

func TestRandomJitterStaysInRange(t *testing.T) {
	for range 1000 {
		if j := RandomJitter(); j < 0 || j >= 1 {
			t.Fatalf("jitter %v out of [0, 1)", j)
		}
	}
}
