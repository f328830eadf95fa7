package money

import (
	"math"
	"math/big"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSumAddsInt64AmountsPastInt64Exactly(t *testing.T) {
	var s Sum
	for range 4 {
		s = s.Add(Of(math.MaxInt64))
	}
	require.Equal(t, "36893488147419103228", s.String())
	_, ok := s.Int64()
	require.False(t, ok)

	for range 4 {
		s = s.Sub(Of(math.MaxInt64))
	}
	n, ok := s.Int64()
	require.True(t, ok)
	require.Zero(t, n)

	s = Of(math.MinInt64).Add(Of(math.MinInt64)).Add(Of(-1))
	require.Equal(t, "-18446744073709551617", s.String())
	require.Equal(t, -1, s.Sign())
	require.Equal(t, s, FromBig(s.Big()))
}

func TestSumSaturatesInsteadOfWrapping(t *testing.T) {
	require.Equal(t, Max, Max.Add(Of(1)))
	require.Equal(t, Min, Min.Add(Of(-1)))
	require.Equal(t, Max, Min.Neg())
	require.Equal(t, Max, FromBig(new(big.Int).Lsh(big.NewInt(1), 200)))
	require.Equal(t, Min, FromBig(new(big.Int).Lsh(big.NewInt(-1), 200)))
	require.Equal(t, Max.Sub(Of(1)), Max.Add(Of(-1)))
}

func TestFromPartsIsHighTimesTwoToThe32PlusLow(t *testing.T) {
	for _, tc := range []struct {
		high, low int64
		want      string
	}{
		{0, 0, "0"},
		{1, 5, "4294967301"},
		{-1, 0, "-4294967296"},
		// Halves of math.MaxInt64, added three times.
		{3 * (math.MaxInt64 >> 32), 3 * int64(uint32(math.MaxUint32)), "27670116110564327421"},
		// (2^63-1) x 2^32 + 2^63-1.
		{math.MaxInt64, math.MaxInt64, "39614081266355540829331783679"},
	} {
		require.Equal(t, tc.want, FromParts(tc.high, tc.low).String(), "%d, %d", tc.high, tc.low)
	}
}

func TestCmpAndFloat64(t *testing.T) {
	big1 := Of(math.MaxInt64).Add(Of(math.MaxInt64))
	require.Equal(t, 1, big1.Cmp(Of(math.MaxInt64)))
	require.Equal(t, -1, Of(-1).Cmp(Of(0)))
	require.Equal(t, 0, big1.Cmp(big1))
	require.Equal(t, -1, big1.Neg().Cmp(Of(math.MinInt64)))
	require.InEpsilon(t, 2*float64(math.MaxInt64), big1.Float64(), 1e-15)
	require.Equal(t, 1.5e6, Of(1_500_000).Float64())
}
