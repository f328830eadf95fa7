package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/server/cost"
)

// Client makes Cairn's calls over one protocol. The two implementations,
// REST and gRPC, send the same requests, so that their figures compare.
type Client interface {
	// Protocol is "rest" or "grpc".
	Protocol() string
	// Cost reads a service's cost card for the current month.
	Cost(ctx context.Context, service string) error
	// Status reads a provisioned service's status card.
	Status(ctx context.Context, service string) error
	// AppliedObjects is how many of a provisioned service's Applications
	// and claims its status card shows: those seen on the cluster.
	AppliedObjects(ctx context.Context, service string) (int, error)
	// Dora reads a service's DORA card over the default 30-day window.
	Dora(ctx context.Context, service string) error
	// Create records the intent to create a service's infrastructure.
	Create(ctx context.Context, req *cairnv1.CreateServiceRequest) error
	// Deploy records a deployment; created is false when it was recorded
	// already.
	Deploy(ctx context.Context, req *cairnv1.RecordDeploymentRequest) (created bool, err error)
	// Register upserts a catalog entry.
	Register(ctx context.Context, req *cairnv1.RegisterServiceRequest) error
	// RecordIncident records an incident.
	RecordIncident(ctx context.Context, req *cairnv1.RecordIncidentRequest) error
	// ImportFocus imports a FOCUS billing file from source.
	ImportFocus(ctx context.Context, source string, file io.Reader) error
	// Close releases the client's connections.
	Close() error
}

// CallError is a call that Cairn answered with an error, or that got no
// answer at all (Code is Unavailable then, and NoAnswer set).
type CallError struct {
	Code codes.Code
	// HTTPStatus is the REST status; 0 over gRPC or with no answer.
	HTTPStatus int
	NoAnswer   bool
	Message    string
}

func (e *CallError) Error() string { return e.Kind() + ": " + e.Message }

// Kind is how errors are counted: the canonical code, with the HTTP status
// over REST, or "no answer" when the connection failed.
func (e *CallError) Kind() string {
	switch {
	case e.NoAnswer:
		return "no answer"
	case e.HTTPStatus != 0:
		return strconv.Itoa(e.HTTPStatus) + " " + e.Code.String()
	}
	return e.Code.String()
}

// Retryable says whether sending the same call again may succeed: the
// server was unreachable, unavailable, overloaded or timed out, or failed
// in a way the caller did not cause. Every write the load generator sends
// is idempotent (creates carry a request_id; a deployment is keyed on its
// service, environment, revision and start), so a retry is always safe.
func (e *CallError) Retryable() bool {
	switch e.Code {
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Aborted,
		codes.Internal, codes.Unknown, codes.Canceled:
		return true
	}
	return false
}

// errorKind is how err is counted.
func errorKind(err error) string {
	var callErr *CallError
	if errors.As(err, &callErr) {
		return callErr.Kind()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "client deadline"
	}
	return "client: " + err.Error()
}

// Retryable says whether err, from a Client, is worth another try.
func Retryable(err error) bool {
	var callErr *CallError
	return errors.As(err, &callErr) && callErr.Retryable()
}

// callTimeout bounds each call the load generator makes.
const callTimeout = 30 * time.Second

// RESTClient calls Cairn's REST facade at baseURL (http://host:port) with
// a bearer token, on up to conns kept-alive connections.
func RESTClient(baseURL, token string, conns int) Client {
	return &restClient{
		base:  baseURL,
		auth:  "Bearer " + token,
		http:  &http.Client{Timeout: callTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxIdleConns: conns}},
		codec: protojson.MarshalOptions{},
	}
}

type restClient struct {
	base  string
	auth  string
	http  *http.Client
	codec protojson.MarshalOptions
}

func (c *restClient) Protocol() string { return "rest" }

func (c *restClient) Cost(ctx context.Context, service string) error {
	return c.do(ctx, http.MethodGet, "/v1/services/"+service+"/cost", "", nil, nil)
}

func (c *restClient) Status(ctx context.Context, service string) error {
	return c.do(ctx, http.MethodGet, "/v1/services/"+service+"/status", "", nil, nil)
}

func (c *restClient) AppliedObjects(ctx context.Context, service string) (int, error) {
	var status cairnv1.GetServiceStatusResponse
	err := c.do(ctx, http.MethodGet, "/v1/services/"+service+"/status", "", nil, &status)
	return len(status.GetDeployments()) + len(status.GetInfrastructure()), err
}

func (c *restClient) Dora(ctx context.Context, service string) error {
	return c.do(ctx, http.MethodGet, "/v1/services/"+service+"/dora", "", nil, nil)
}

func (c *restClient) Create(ctx context.Context, req *cairnv1.CreateServiceRequest) error {
	return c.post(ctx, "/v1/services", req, nil)
}

func (c *restClient) Deploy(ctx context.Context, req *cairnv1.RecordDeploymentRequest) (bool, error) {
	var resp cairnv1.RecordDeploymentResponse
	err := c.post(ctx, "/v1/deployments", req, &resp)
	return resp.GetCreated(), err
}

func (c *restClient) Register(ctx context.Context, req *cairnv1.RegisterServiceRequest) error {
	return c.post(ctx, "/v1/services:register", req, nil)
}

func (c *restClient) RecordIncident(ctx context.Context, req *cairnv1.RecordIncidentRequest) error {
	return c.post(ctx, "/v1/incidents", req, nil)
}

func (c *restClient) ImportFocus(ctx context.Context, source string, file io.Reader) error {
	return c.do(ctx, http.MethodPost, "/v1/costs:importFocus?source="+source, "text/csv", file, nil)
}

func (c *restClient) Close() error {
	c.http.CloseIdleConnections()
	return nil
}

// post sends req as the JSON body the gateway reads, and decodes the answer
// into resp when not nil.
func (c *restClient) post(ctx context.Context, path string, req proto.Message, resp proto.Message) error {
	body, err := c.codec.Marshal(req)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPost, path, "application/json", bytes.NewReader(body), resp)
}

// do makes one call. A read's body is read to its end and not decoded:
// the cores are left to the server, and the end-to-end tests check the
// bodies' shapes.
func (c *restClient) do(ctx context.Context, method, path, contentType string, body io.Reader, resp proto.Message) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", c.auth)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	r, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &CallError{Code: codes.Unavailable, NoAnswer: true, Message: err.Error()}
	}
	defer r.Body.Close()
	if r.StatusCode == http.StatusOK && resp == nil {
		_, err := io.Copy(io.Discard, r.Body)
		return err
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return &CallError{Code: codes.Unavailable, NoAnswer: true, Message: err.Error()}
	}
	if r.StatusCode != http.StatusOK {
		return restError(r.StatusCode, raw)
	}
	return protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(raw, resp)
}

// restError reads the status the gateway writes for an error.
func restError(httpStatus int, body []byte) error {
	var st struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(body, &st); err != nil || st.Code == 0 {
		return &CallError{Code: codes.Unknown, HTTPStatus: httpStatus, Message: fmt.Sprintf("%.200s", body)}
	}
	return &CallError{Code: codes.Code(st.Code), HTTPStatus: httpStatus, Message: st.Message}
}

// GRPCClient calls Cairn's gRPC API at addr (host:port) with a bearer
// token, over conns HTTP/2 connections taken in turn.
func GRPCClient(addr, token string, conns int) (Client, error) {
	c := &grpcClient{}
	for range max(conns, 1) {
		conn, err := grpc.NewClient(addr,
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithPerRPCCredentials(bearer(token)))
		if err != nil {
			c.Close()
			return nil, err
		}
		c.conns = append(c.conns, conn)
	}
	return c, nil
}

type grpcClient struct {
	conns []*grpc.ClientConn
	next  atomic.Uint32
}

// bearer sends a token with every call.
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

func (bearer) RequireTransportSecurity() bool { return false }

func (c *grpcClient) conn() *grpc.ClientConn {
	return c.conns[int(c.next.Add(1))%len(c.conns)]
}

func (c *grpcClient) Protocol() string { return "grpc" }

func (c *grpcClient) Cost(ctx context.Context, service string) error {
	_, err := cairnv1.NewCostServiceClient(c.conn()).GetServiceCost(ctx, &cairnv1.GetServiceCostRequest{Name: "services/" + service})
	return grpcError(err)
}

func (c *grpcClient) Status(ctx context.Context, service string) error {
	_, err := cairnv1.NewProvisioningServiceClient(c.conn()).GetServiceStatus(ctx, &cairnv1.GetServiceStatusRequest{Name: "services/" + service})
	return grpcError(err)
}

func (c *grpcClient) AppliedObjects(ctx context.Context, service string) (int, error) {
	status, err := cairnv1.NewProvisioningServiceClient(c.conn()).GetServiceStatus(ctx, &cairnv1.GetServiceStatusRequest{Name: "services/" + service})
	return len(status.GetDeployments()) + len(status.GetInfrastructure()), grpcError(err)
}

func (c *grpcClient) Dora(ctx context.Context, service string) error {
	_, err := cairnv1.NewMetricsServiceClient(c.conn()).GetServiceDora(ctx, &cairnv1.GetServiceDoraRequest{Name: "services/" + service})
	return grpcError(err)
}

func (c *grpcClient) Create(ctx context.Context, req *cairnv1.CreateServiceRequest) error {
	_, err := cairnv1.NewProvisioningServiceClient(c.conn()).CreateService(ctx, req)
	return grpcError(err)
}

func (c *grpcClient) Deploy(ctx context.Context, req *cairnv1.RecordDeploymentRequest) (bool, error) {
	resp, err := cairnv1.NewMetricsServiceClient(c.conn()).RecordDeployment(ctx, req)
	return resp.GetCreated(), grpcError(err)
}

func (c *grpcClient) Register(ctx context.Context, req *cairnv1.RegisterServiceRequest) error {
	_, err := cairnv1.NewCatalogServiceClient(c.conn()).RegisterService(ctx, req)
	return grpcError(err)
}

func (c *grpcClient) RecordIncident(ctx context.Context, req *cairnv1.RecordIncidentRequest) error {
	_, err := cairnv1.NewMetricsServiceClient(c.conn()).RecordIncident(ctx, req)
	return grpcError(err)
}

func (c *grpcClient) ImportFocus(ctx context.Context, source string, file io.Reader) error {
	stream, err := cairnv1.NewCostServiceClient(c.conn()).ImportFocusCsv(ctx)
	if err != nil {
		return grpcError(err)
	}
	_, err = cost.UploadFocus(stream, source, file)
	return grpcError(err)
}

func (c *grpcClient) Close() error {
	var errs []error
	for _, conn := range c.conns {
		errs = append(errs, conn.Close())
	}
	return errors.Join(errs...)
}

// grpcError turns a gRPC status into a CallError; errors that are not
// statuses (the file being read failed) pass as they are.
func grpcError(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	return &CallError{Code: st.Code(), Message: st.Message()}
}
