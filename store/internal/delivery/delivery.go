// Package delivery is what the engines of store.MetricsStore share about
// reading a period's deployments: each engine keeps its deployments counted
// per UTC day as they are recorded, so that a period's whole days are read
// from those counts, and only the parts of days at its ends from the
// deployments themselves.
package delivery

import (
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/cairn-dev/cairn/store"
)

const day = 24 * time.Hour

// Span is the period [From, To); empty when From is not before To.
type Span struct {
	From, To time.Time
}

// Empty reports whether the span holds no instant.
func (s Span) Empty() bool { return !s.From.Before(s.To) }

// Day is the UTC midnight that starts t's UTC day.
func Day(t time.Time) time.Time {
	return t.UTC().Truncate(day) // the zero time is a UTC midnight
}

// Split splits [from, to) into the part of a day it starts with (head),
// the whole UTC days after it (whole), and the part of a day it ends with
// (tail), in that order. A span is empty where there is no such part: the
// head when from is a midnight, the tail when to is, and the whole days
// and tail when the period lies within one day.
func Split(from, to time.Time) (head, whole, tail Span) {
	firstMidnight := Day(from)
	if firstMidnight.Before(from) {
		firstMidnight = firstMidnight.Add(day)
	}
	lastMidnight := Day(to)
	if !firstMidnight.Before(lastMidnight) {
		if firstMidnight.Equal(lastMidnight) {
			// One midnight between them: two parts, no whole day.
			return Span{from, firstMidnight}, Span{}, Span{firstMidnight, to}
		}
		return Span{from, to}, Span{}, Span{} // within one day
	}
	return Span{from, firstMidnight}, Span{firstMidnight, lastMidnight}, Span{lastMidnight, to}
}

// Counts are what one deployment adds to its day's counts: as succeeded or
// failed, and as incident-causing when it succeeded and an incident names
// its revision.
func Counts(status string, namedByIncident bool) (succeeded, failed, incidentCausing int64) {
	if status == store.DeploymentFailed {
		return 0, 1, 0
	}
	if namedByIncident {
		return 1, 0, 1
	}
	return 1, 0, 0
}

// LeadTimes are what commits of a deployment with status that finished at
// finishedAt add to its day's lead times, encoded as EncodeMicros does: for
// a successful deployment, each commit's lead time (finish less commit
// time) in whole microseconds, as the engines keep times; none for a failed
// one. It is never nil, so that engines store an empty list rather than
// NULL.
func LeadTimes(status string, finishedAt time.Time, commits []store.Commit) []byte {
	if status != store.DeploymentSucceeded {
		return []byte{}
	}
	micros := make([]int64, len(commits))
	for i, c := range commits {
		micros[i] = finishedAt.UnixMicro() - c.CommittedAt.UnixMicro()
	}
	return EncodeMicros(micros)
}

// CheckCommitsBefore refuses commits made after finishedAt, the finish of
// a stored deployment that a repeat lists them for, with a
// *store.CommitsAfterFinishError. Times compare to the microsecond, as the
// engines keep them, so that a repeat carrying the first report's own
// times is never refused.
func CheckCommitsBefore(commits []store.Commit, finishedAt time.Time) error {
	var late []int
	for i, c := range commits {
		if c.CommittedAt.UnixMicro() > finishedAt.UnixMicro() {
			late = append(late, i)
		}
	}
	if len(late) > 0 {
		return &store.CommitsAfterFinishError{FinishedAt: finishedAt, Commits: late}
	}
	return nil
}

// EncodeMicros encodes microseconds as both engines keep a day's lead
// times: 8-byte big-endian integers, one after the other, which
// PostgreSQL's int8send also writes, so that concatenating two lists is
// concatenating their bytes.
func EncodeMicros(micros []int64) []byte {
	b := make([]byte, 0, 8*len(micros))
	for _, us := range micros {
		b = binary.BigEndian.AppendUint64(b, uint64(us))
	}
	return b
}

// AppendDecodedMicros appends the microseconds EncodeMicros encoded in b.
func AppendDecodedMicros(micros []int64, b []byte) ([]int64, error) {
	if len(b)%8 != 0 {
		return nil, fmt.Errorf("lead times of %d bytes, not a whole number of 8-byte integers", len(b))
	}
	micros = slices.Grow(micros, len(b)/8)
	for i := 0; i < len(b); i += 8 {
		micros = append(micros, int64(binary.BigEndian.Uint64(b[i:])))
	}
	return micros, nil
}

// Durations converts microseconds to durations.
func Durations(micros []int64) []time.Duration {
	durations := make([]time.Duration, len(micros))
	for i, us := range micros {
		durations[i] = time.Duration(us) * time.Microsecond
	}
	return durations
}
