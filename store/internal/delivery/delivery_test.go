package delivery

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

func TestSplitCutsAPeriodIntoPartDaysAndWholeDays(t *testing.T) {
	at := func(day, hour int) time.Time { return time.Date(2031, 3, day, hour, 0, 0, 0, time.UTC) }
	tests := []struct {
		name              string
		from, to          time.Time
		head, whole, tail Span
	}{
		{"noon to noon", at(1, 12), at(31, 12), Span{at(1, 12), at(2, 0)}, Span{at(2, 0), at(31, 0)}, Span{at(31, 0), at(31, 12)}},
		{"midnight to midnight", at(1, 0), at(31, 0), Span{at(1, 0), at(1, 0)}, Span{at(1, 0), at(31, 0)}, Span{at(31, 0), at(31, 0)}},
		{"midnight to noon", at(1, 0), at(3, 12), Span{at(1, 0), at(1, 0)}, Span{at(1, 0), at(3, 0)}, Span{at(3, 0), at(3, 12)}},
		{"noon to the next noon", at(1, 12), at(2, 12), Span{at(1, 12), at(2, 0)}, Span{}, Span{at(2, 0), at(2, 12)}},
		{"within a day", at(1, 6), at(1, 18), Span{at(1, 6), at(1, 18)}, Span{}, Span{}},
		{"a whole single day", at(1, 0), at(2, 0), Span{at(1, 0), at(1, 0)}, Span{at(1, 0), at(2, 0)}, Span{at(2, 0), at(2, 0)}},
		{"in another zone", at(1, 12).In(time.FixedZone("CEST", 2*3600)), at(3, 12), Span{at(1, 12), at(2, 0)}, Span{at(2, 0), at(3, 0)}, Span{at(3, 0), at(3, 12)}},
	}
	for _, tt := range tests {
		head, whole, tail := Split(tt.from, tt.to)
		for _, span := range []struct{ got, want Span }{{head, tt.head}, {whole, tt.whole}, {tail, tt.tail}} {
			require.Equal(t, span.want.Empty(), span.got.Empty(), tt.name)
			if !span.want.Empty() {
				require.True(t, span.want.From.Equal(span.got.From) && span.want.To.Equal(span.got.To), "%s: want %v, got %v", tt.name, span.want, span.got)
			}
		}
	}
}

func TestCheckCommitsBeforeComparesToTheMicrosecondTheEnginesKeep(t *testing.T) {
	finished := time.Date(2031, 3, 1, 10, 0, 0, 0, time.UTC)
	commits := []store.Commit{
		{SHA: "before", CommittedAt: finished.Add(-time.Hour)},
		{SHA: "as-it-finished", CommittedAt: finished},
		{SHA: "below-a-microsecond-after", CommittedAt: finished.Add(999 * time.Nanosecond)},
		{SHA: "a-microsecond-after", CommittedAt: finished.Add(time.Microsecond)},
		{SHA: "in-another-zone", CommittedAt: finished.Add(time.Minute).In(time.FixedZone("CEST", 2*3600))},
	}
	require.NoError(t, CheckCommitsBefore(commits[:3], finished))
	err := CheckCommitsBefore(commits, finished)
	var late *store.CommitsAfterFinishError
	require.ErrorAs(t, err, &late)
	require.Equal(t, &store.CommitsAfterFinishError{FinishedAt: finished, Commits: []int{3, 4}}, late)
}
