// Package audit serves the audit log that the server's guard writes: one
// event for every mutating call, allowed or denied.
package audit

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/server/entityref"
	"github.com/cairn-dev/cairn/server/pagetoken"
	"github.com/cairn-dev/cairn/store"
)

// Server serves AuditService.
type Server struct {
	cairnv1.UnimplementedAuditServiceServer
	store store.AuditStore
}

// NewServer returns the AuditService over s.
func NewServer(s store.AuditStore) *Server {
	return &Server{store: s}
}

// ListAuditEvents implements AuditService.
func (s *Server) ListAuditEvents(ctx context.Context, req *cairnv1.ListAuditEventsRequest) (*cairnv1.ListAuditEventsResponse, error) {
	filter := store.AuditFilter{
		Principal: principalFilter(req.GetPrincipal()),
		Action:    req.GetAction(),
		Target:    req.GetTarget(),
		Outcome:   req.GetOutcome(),
	}
	if req.GetStartTime() != nil {
		filter.Start = req.GetStartTime().AsTime()
	}
	if req.GetEndTime() != nil {
		filter.End = req.GetEndTime().AsTime()
	}
	query := filterKey(filter)
	before, err := pagetoken.DecodeInt(req.GetPageToken(), query)
	if err != nil {
		return nil, apierr.Invalid(apierr.FieldViolation{Field: "page_token", Description: err.Error()})
	}
	size := pagetoken.Size(req.GetPageSize())
	events, err := s.store.ListAuditEvents(ctx, filter, before, size+1)
	if err != nil {
		return nil, err
	}
	events, next := pagetoken.Page(events, size, query, func(e store.AuditEvent) string { return strconv.FormatInt(e.ID, 10) })
	resp := &cairnv1.ListAuditEventsResponse{NextPageToken: next, AuditEvents: make([]*cairnv1.AuditEvent, 0, len(events))}
	for _, e := range events {
		resp.AuditEvents = append(resp.AuditEvents, &cairnv1.AuditEvent{
			Name:      fmt.Sprintf("auditEvents/%d", e.ID),
			Time:      timestamppb.New(e.Time),
			Principal: e.Principal,
			Action:    e.Action,
			Target:    e.Target,
			RequestId: e.RequestID,
			Outcome:   e.Outcome,
			Code:      e.Code,
			Detail:    e.Detail,
		})
	}
	return resp, nil
}

func filterKey(f store.AuditFilter) string {
	return fmt.Sprintf("principal=%q action=%q target=%q outcome=%q start=%s end=%s",
		f.Principal, f.Action, f.Target, f.Outcome, f.Start.Format(time.RFC3339Nano), f.End.Format(time.RFC3339Nano))
}

// principalFilter is the principal as the audit log names it: Backstage
// users by their canonical entity reference, so that `user:default/Zed`
// finds the events of `user:default/zed`. Token names are kept as given.
func principalFilter(principal string) string {
	if !strings.Contains(principal, ":") {
		return principal
	}
	if ref, ok := entityref.Canonical(principal, ""); ok {
		return ref.String()
	}
	return principal
}
