package cost

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/server/cost/focus"
)

func TestParseMicrosRefusesAmountsJustBeyondInt64(t *testing.T) {
	m, err := ParseMicros("9223372036854.775807")
	require.NoError(t, err)
	require.Equal(t, Micros(math.MaxInt64), m)
	for _, bad := range []string{"9223372036854.775808", "9223372036854.999999", "-9223372036854.999999"} {
		_, err := ParseMicros(bad)
		require.ErrorContains(t, err, "too large", bad)
	}
}

// FuzzParseMicrosAgreesWithFocus: the FOCUS reader, which cannot import this
// package, has its own allocation-free parser that also rounds past six
// fraction digits. On every amount of at most six, the two agree.
func FuzzParseMicrosAgreesWithFocus(f *testing.F) {
	for _, s := range []string{"0.072", "-1.25", ".5", "5.", "+7", "1e3", "1,5", "", "9223372036854.775807", "9223372036854.999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if _, frac, ok := strings.Cut(s, "."); ok && len(frac) > 6 {
			return // the reader rounds what ParseMicros refuses
		}
		want, wantErr := ParseMicros(s)
		file := "BilledCost,EffectiveCost,ListCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId,ServiceName,ServiceCategory,Tags\n" +
			`"` + strings.ReplaceAll(s, `"`, `""`) + `",0,0,USD,2024-05-01T00:00:00Z,2024-05-02T00:00:00Z,Credit,r,S,Other,` + "\n"
		for row, err := range focus.Read(strings.NewReader(file), focus.Options{}) {
			if wantErr != nil {
				var rowErr *focus.RowError
				require.True(t, errors.As(err, &rowErr), "%q: ParseMicros: %v, reader: %v", s, wantErr, err)
				return
			}
			require.NoError(t, err, s)
			require.Equal(t, int64(want), row.BilledCost, s)
			return
		}
		require.Fail(t, "no row", s)
	})
}
