// Package provisioning checks the arguments of store.ProvisioningStore's
// methods and prepares those of its listing of promotions for the engines'
// queries, so that every engine takes, refuses and pages alike.
package provisioning

import (
	"fmt"
	"math"

	"github.com/cairn-dev/cairn/store"
)

// CheckCreate checks the arguments of CreateProvisioning: svc is the
// catalog entry of p's service.
func CheckCreate(p store.Provisioning, svc *store.Service) error {
	switch {
	case svc == nil:
		return fmt.Errorf("provisioning %q comes without its catalog entry", p.Service)
	case svc.Name != p.Service:
		return fmt.Errorf("provisioning %q comes with the catalog entry of %q", p.Service, svc.Name)
	}
	return nil
}

// CheckDecision checks the state DecidePromotion moves a promotion to:
// approved or denied.
func CheckDecision(state string) error {
	if state != "approved" && state != "denied" {
		return fmt.Errorf("a promotion is approved or denied, not decided %q", state)
	}
	return nil
}

// PromotionPage is the cursor and limit of a ListPromotions call as the
// engines' queries take them.
type PromotionPage struct {
	// Before is above the ID of every promotion listed: math.MaxInt64,
	// above every ID, to list from the newest.
	Before int64
	// Limit is the most promotions to list, never negative: SQLite reads a
	// negative LIMIT as no limit at all, and PostgreSQL rejects it.
	Limit int64
}

// NewPromotionPage is the page of ListPromotions(service, before, limit).
func NewPromotionPage(before int64, limit int) PromotionPage {
	if before <= 0 {
		before = math.MaxInt64
	}
	return PromotionPage{Before: before, Limit: int64(max(limit, 0))}
}
