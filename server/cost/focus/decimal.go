package focus

import (
	"fmt"
	"math"
)

// parseMicros reads a decimal cost exactly into micro-units, without
// allocating: an optional sign, digits, an optional fraction. Digits past the
// sixth fraction digit round to the nearest micro-unit, halves to even, as
// FOCUS exports often carry ten or more. It agrees with cost.ParseMicros on
// every amount that one accepts (a test checks it); this package cannot
// import server/cost, which imports it.
func parseMicros(s string) (int64, error) {
	i, neg := 0, false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	var v uint64 // micro-units
	const maxWhole = math.MaxInt64 / 1_000_000
	nd := 0
	for ; i < len(s) && isDigit(s[i]); i++ {
		v = v*10 + uint64(s[i]-'0')
		if v > maxWhole {
			return 0, fmt.Errorf("amount out of range: %q", s)
		}
		nd++
	}
	v *= 1_000_000
	if i < len(s) && s[i] == '.' {
		i++
		scale := uint64(100_000)
		for k := 0; i < len(s) && isDigit(s[i]); i, k = i+1, k+1 {
			d := uint64(s[i] - '0')
			nd++
			switch {
			case k < 6:
				v += d * scale
				scale /= 10
			case k == 6: // the first dropped digit decides, with the rest
				up := d > 5
				if d == 5 {
					up = v%2 == 1 // a tie unless a later digit is not zero
					for j := i + 1; j < len(s) && isDigit(s[j]); j++ {
						if s[j] != '0' {
							up = true
							break
						}
					}
				}
				if up {
					v++
				}
			}
		}
	}
	if nd == 0 || i != len(s) {
		return 0, fmt.Errorf("not a decimal number: %q", s)
	}
	if v > math.MaxInt64 {
		return 0, fmt.Errorf("amount out of range: %q", s)
	}
	if neg {
		return -int64(v), nil
	}
	return int64(v), nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
