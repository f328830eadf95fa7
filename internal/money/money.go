// Package money adds up amounts of money exactly. Cairn keeps amounts as
// int64 micro-units (millionths of a currency unit), which a few large
// charges can overflow when added: a Sum is 128 bits wide, so that adding
// int64 amounts cannot overflow short of 2^64 of them.
package money

import (
	"math"
	"math/big"
	"math/bits"
)

// Sum is an exact sum of micro-units: hi*2^64 + lo, in two's complement.
// Its zero value is zero. Arithmetic saturates at ±2^127 rather than wrap,
// a bound that sums of int64 amounts do not reach.
type Sum struct {
	hi int64
	lo uint64
}

// Max and Min are the largest and smallest sums.
var (
	Max = Sum{hi: math.MaxInt64, lo: math.MaxUint64}
	Min = Sum{hi: math.MinInt64}
)

// Of is the sum of one amount.
func Of(n int64) Sum { return Sum{hi: n >> 63, lo: uint64(n)} }

// FromParts is high*2^32 + low: the engines add amounts in halves, their
// high 32 bits (arithmetic shift) and their low 32 bits (unsigned), each of
// which sums within int64 for fewer than 2^31 amounts.
func FromParts(high, low int64) Sum {
	shifted := Sum{hi: high >> 32, lo: uint64(high) << 32}
	return shifted.Add(Of(low))
}

// Add is a + b.
func (a Sum) Add(b Sum) Sum {
	lo, carry := bits.Add64(a.lo, b.lo, 0)
	hi, overflow := addInt64(a.hi, b.hi)
	if !overflow {
		hi, overflow = addInt64(hi, int64(carry))
	}
	if overflow {
		if b.hi < 0 {
			return Min
		}
		return Max
	}
	return Sum{hi: hi, lo: lo}
}

// Sub is a - b.
func (a Sum) Sub(b Sum) Sum { return a.Add(b.Neg()) }

// Neg is -a.
func (a Sum) Neg() Sum {
	if a == Min {
		return Max
	}
	lo, borrow := bits.Sub64(0, a.lo, 0)
	return Sum{hi: -a.hi - int64(borrow), lo: lo}
}

// addInt64 is x + y, and whether that overflows.
func addInt64(x, y int64) (int64, bool) {
	s := x + y
	return s, (x >= 0) == (y >= 0) && (s >= 0) != (x >= 0)
}

// Sign is -1, 0 or 1.
func (a Sum) Sign() int {
	switch {
	case a.hi < 0:
		return -1
	case a.hi == 0 && a.lo == 0:
		return 0
	}
	return 1
}

// Cmp is -1, 0 or 1 as a is less than, equal to or greater than b.
func (a Sum) Cmp(b Sum) int {
	switch {
	case a.hi < b.hi:
		return -1
	case a.hi > b.hi:
		return 1
	case a.lo < b.lo:
		return -1
	case a.lo > b.lo:
		return 1
	}
	return 0
}

// Int64 is the sum as an int64, and whether it fits one.
func (a Sum) Int64() (int64, bool) {
	n := int64(a.lo)
	return n, a.hi == n>>63
}

// Float64 is the nearest float64 to the sum (in micro-units).
func (a Sum) Float64() float64 {
	if n, ok := a.Int64(); ok {
		return float64(n)
	}
	f, _ := new(big.Float).SetInt(a.Big()).Float64()
	return f
}

// Big is the sum as a big.Int.
func (a Sum) Big() *big.Int {
	b := big.NewInt(a.hi)
	b.Lsh(b, 64)
	return b.Add(b, new(big.Int).SetUint64(a.lo))
}

// FromBig is n, saturated to [Min, Max].
func FromBig(n *big.Int) Sum {
	if n.IsInt64() {
		return Of(n.Int64())
	}
	if n.Cmp(Max.Big()) > 0 {
		return Max
	}
	if n.Cmp(Min.Big()) < 0 {
		return Min
	}
	lo := new(big.Int).And(n, new(big.Int).SetUint64(math.MaxUint64))
	hi := new(big.Int).Rsh(n, 64) // floor: two's complement's high half
	return Sum{hi: hi.Int64(), lo: lo.Uint64()}
}

// String is the sum in decimal micro-units.
func (a Sum) String() string { return a.Big().String() }
