module podlink.bench/gohttp

go 1.24
