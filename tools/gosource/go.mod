module kubeflake.dev/tools/gosource

go 1.22
