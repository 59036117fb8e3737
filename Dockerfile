# Placeholder: the deployable image is issue #4.
FROM scratch
