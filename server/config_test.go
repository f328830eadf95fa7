package server

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cairn.yaml")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
	return path
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestLoadConfigWithNothingSetGivesTheDefaults(t *testing.T) {
	cfg, err := LoadConfig(nil, env(nil), io.Discard)
	require.NoError(t, err)
	require.Equal(t, DefaultConfig(), cfg)
	require.Equal(t, ":9090", cfg.GRPCAddr)
	require.Equal(t, ":8080", cfg.HTTPAddr)
	require.Equal(t, "sqlite:cairn.db", cfg.Store)
}

func TestLoadConfigPrecedenceIsFlagThenEnvironmentThenFileThenDefault(t *testing.T) {
	file := writeConfig(t, "grpcAddr: :1001\nhttpAddr: :2001\nstore: sqlite:file.db\nshutdownTimeout: 3s\n")
	cfg, err := LoadConfig(
		[]string{"--config", file, "--grpc-addr", ":1003"},
		env(map[string]string{"CAIRN_GRPC_ADDR": ":1002", "CAIRN_HTTP_ADDR": ":2002"}),
		io.Discard,
	)
	require.NoError(t, err)
	require.Equal(t, ":1003", cfg.GRPCAddr, "flag beats environment and file")
	require.Equal(t, ":2002", cfg.HTTPAddr, "environment beats file")
	require.Equal(t, "sqlite:file.db", cfg.Store, "file beats default")
	require.Equal(t, 3*time.Second, cfg.ShutdownTimeout)
	require.Equal(t, "info", cfg.LogLevel, "default when nothing sets it")
}

func TestLoadConfigTakesTheFileFromTheEnvironment(t *testing.T) {
	file := writeConfig(t, "logLevel: debug\n")
	cfg, err := LoadConfig(nil, env(map[string]string{"CAIRN_CONFIG": file}), io.Discard)
	require.NoError(t, err)
	require.Equal(t, "debug", cfg.LogLevel)
}

func TestLoadConfigRefuses(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		file string
		want string
	}{
		{name: "an unknown key in the file", file: "grpcAdress: :1\n", want: "field grpcAdress not found"},
		{name: "an unknown flag", args: []string{"--grpc-adress", ":1"}, want: "flag provided but not defined"},
		{name: "a bad environment value", env: map[string]string{"CAIRN_SHUTDOWN_TIMEOUT": "soon"}, want: "CAIRN_SHUTDOWN_TIMEOUT"},
		{name: "an unknown log level", args: []string{"--log-level", "loud"}, want: "log level"},
		{name: "a missing file", args: []string{"--config", "/nonexistent/cairn.yaml"}, want: "config file"},
		{name: "a stray argument", args: []string{"extra"}, want: "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.file != "" {
				args = append(args, "--config", writeConfig(t, tt.file))
			}
			_, err := LoadConfig(args, env(tt.env), io.Discard)
			require.ErrorContains(t, err, tt.want)
		})
	}
}
