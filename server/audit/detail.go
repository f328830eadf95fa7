package audit

import (
	"context"
	"sync"
)

// detailKey carries a call's detail holder in its context.
type detailKey struct{}

// detail is what a handler says its call did, for the audit event the
// guard writes once the call ends.
type detail struct {
	mu   sync.Mutex
	text string
}

// WithDetail returns ctx carrying a place for the call's detail, which
// Describe sets and DetailOf reads.
func WithDetail(ctx context.Context) context.Context {
	return context.WithValue(ctx, detailKey{}, &detail{})
}

// Describe sets the detail of the call ctx belongs to: what it did, in
// words, where its action alone does not say. The last one set is kept.
// Outside a call it does nothing.
func Describe(ctx context.Context, text string) {
	if d, ok := ctx.Value(detailKey{}).(*detail); ok {
		d.mu.Lock()
		d.text = text
		d.mu.Unlock()
	}
}

// DetailOf returns the detail set for ctx's call, "" for none.
func DetailOf(ctx context.Context) string {
	d, ok := ctx.Value(detailKey{}).(*detail)
	if !ok {
		return ""
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.text
}
