# Shared by apply-series and patches-check (sourced, not run): how the
# quilt series is read and pushed, so that both judge it the same way.
# Needs $top, the repository's top folder.

# The patch names of patches/series, one a line, comments left out.
series_patches() {
    grep -v '^[[:space:]]*\(#\|$\)' "$top/patches/series" | awk '{print $1}'
}

# series_push TREE LOG: link TREE/patches to the series and push all of
# it with quilt, refusing fuzz; quilt's output goes to LOG.
series_push() {
    ln -sfn "$top/patches" "$1/patches"
    (cd "$1" && quilt --quiltrc "$top/scripts/quiltrc" push -a --fuzz=0) \
        >"$2" 2>&1
}

# series_push_warnings LOG: print the hunks quilt applied with an offset
# or fuzz; the status is 0 when there are any.
series_push_warnings() {
    grep -E -i '(fuzz|offset) [0-9]' "$1"
}
