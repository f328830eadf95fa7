// Package jsoncol encodes and decodes what the engines keep in JSON
// columns: the collections of a store.Service, and a store.ProvisioningSpec.
// A column always holds an array or an object, never null, and an empty
// collection reads back as nil.
package jsoncol

import (
	"encoding/json"

	"github.com/cairn-dev/cairn/store"
)

// Encoding string maps, slices of strings or Links, and specs (strings,
// numbers, booleans and a slice of strings) cannot fail.

// EncodeList is the column that keeps list: [] when it is empty.
func EncodeList[T string | store.Link](list []T) []byte {
	if len(list) == 0 {
		return []byte("[]")
	}
	b, _ := json.Marshal(list)
	return b
}

// EncodeMap is the column that keeps m: {} when it is empty.
func EncodeMap(m map[string]string) []byte {
	if len(m) == 0 {
		return []byte("{}")
	}
	b, _ := json.Marshal(m)
	return b
}

// DecodeList sets *dst to the list in data, leaving it nil when empty.
func DecodeList[T string | store.Link](data []byte, dst *[]T) error {
	var list []T
	if err := json.Unmarshal(data, &list); err != nil {
		return err
	}
	if len(list) > 0 {
		*dst = list
	}
	return nil
}

// DecodeMap sets *dst to the map in data, leaving it nil when empty.
func DecodeMap(data []byte, dst *map[string]string) error {
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	if len(m) > 0 {
		*dst = m
	}
	return nil
}

// EncodeSpec is the column that keeps spec: an object.
func EncodeSpec(spec store.ProvisioningSpec) []byte {
	b, _ := json.Marshal(spec)
	return b
}

// DecodeSpec sets *dst to the spec in data, its environments nil when
// there are none.
func DecodeSpec(data []byte, dst *store.ProvisioningSpec) error {
	var spec store.ProvisioningSpec
	if err := json.Unmarshal(data, &spec); err != nil {
		return err
	}
	if len(spec.Environments) == 0 {
		spec.Environments = nil
	}
	*dst = spec
	return nil
}

// EncodeEvidence is the column that keeps a promotion's evidence: "" for
// none.
func EncodeEvidence(e *store.PromotionEvidence) string {
	if e == nil {
		return ""
	}
	b, _ := json.Marshal(e)
	return string(b)
}

// DecodeEvidence is the evidence a column keeps: nil for "".
func DecodeEvidence(data string) (*store.PromotionEvidence, error) {
	if data == "" {
		return nil, nil
	}
	var e store.PromotionEvidence
	if err := json.Unmarshal([]byte(data), &e); err != nil {
		return nil, err
	}
	return &e, nil
}
