"""Internal storage of a tenant: `kestra:///...` URIs to files. The only place that turns a
URI into a location (a path here; a bucket key in the S3 and Azure backends of a later issue)."""
