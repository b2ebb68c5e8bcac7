// Package taxonomy holds the data categories fields are labelled with and
// policy rules target: the default fideslang taxonomy Lethe ships, extended
// by the operator's `data_category` blocks.
package taxonomy
