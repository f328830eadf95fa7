package cost

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/cairn-dev/cairn/internal/money"
)

// Micros is an amount of money in millionths of a currency unit: 1.50 USD is
// 1_500_000. Amounts are added and multiplied as integers, so a sum of any
// number of lines is exact; they become float64 only in API responses.
type Micros int64

// microsPerUnit is one currency unit in Micros.
const microsPerUnit = 1_000_000

// Float64 is the amount in currency units, for the API's double fields: the
// nearest float64 to the exact decimal value.
func (m Micros) Float64() float64 { return float64(m) / microsPerUnit }

// String formats the amount as a decimal with as many fraction digits as it
// needs: 52.56, 0.115, 3.
func (m Micros) String() string {
	sign := ""
	u := uint64(m)
	if m < 0 {
		sign, u = "-", uint64(-m) // -MinInt64 wraps to itself, whose uint64 is right
	}
	s := fmt.Sprintf("%s%d.%06d", sign, u/microsPerUnit, u%microsPerUnit)
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}

// ParseMicros reads a decimal amount such as "0.072" or "12" exactly,
// without going through float64. More than six fraction digits, exponents
// and amounts beyond ±9.2 trillion units are errors.
func ParseMicros(s string) (Micros, error) {
	in := s
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" || len(frac) > 6 || !digits(whole) || !digits(frac) {
		return 0, fmt.Errorf("amount %q: want a decimal number with at most six fraction digits, such as 0.072", in)
	}
	var w uint64
	if whole != "" {
		var err error
		if w, err = strconv.ParseUint(whole, 10, 64); err != nil || w > math.MaxInt64/microsPerUnit {
			return 0, fmt.Errorf("amount %q: too large", in)
		}
	}
	var f uint64
	if frac != "" {
		f, _ = strconv.ParseUint(frac+strings.Repeat("0", 6-len(frac)), 10, 64) // six digits at most: cannot fail
	}
	if w*microsPerUnit+f > math.MaxInt64 { // 9223372036854.999999 passes the check on w alone
		return 0, fmt.Errorf("amount %q: too large", in)
	}
	m := Micros(w*microsPerUnit + f)
	if neg {
		m = -m
	}
	return m, nil
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// UnmarshalYAML reads a price written as a YAML number or string, such as
// 0.072 or "0.072", exactly.
func (m *Micros) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a price is a decimal number, such as 0.072", n.Line)
	}
	v, err := ParseMicros(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*m = v
	return nil
}

// Sum adds up the lines' monthly costs, exactly: a sum is wider than an
// amount (see money.Sum), so no number of lines overflows it.
func Sum(lines []Line) money.Sum {
	var total money.Sum
	for _, l := range lines {
		total = total.Add(l.MonthlyCost)
	}
	return total
}

// units is a sum in currency units, for the API's double fields.
func units(s money.Sum) float64 { return s.Float64() / microsPerUnit }

// sumOf is m as a sum.
func sumOf(m Micros) money.Sum { return money.Of(int64(m)) }
