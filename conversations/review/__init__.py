"""Staff review: user feedback, the review queue, transcripts, annotations, audit and datasets."""
